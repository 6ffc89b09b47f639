"""Languages: the checked program model, the assembler and printer (docs/LANGUAGE.md §2), the Python subset
(docs/LANGUAGE.md §3) and the exact reference interpreter. Nothing here imports torch."""
