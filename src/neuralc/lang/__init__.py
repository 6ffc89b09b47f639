"""Languages: the checked program model, the assembler and printer (SPEC §2), the Python subset
(SPEC §3) and the exact reference interpreter. Nothing here imports torch."""
