"""Language models that call a neurally compiled library (docs/DESIGN.md §9).

:class:`NeuralCompilerConfig` / :class:`NeuralCompilerModel`: a Hugging Face backbone (a small
LLaMA decoder, the MiniLM BERT encoder, or any local model) + selection and parsing heads + the
compiled library run by the differentiable machine, trained on answers alone.
:class:`NeuralCompilerBaseline`: the same backbone without the computer. Both are registered
with ``AutoConfig``/``AutoModel`` (model types ``neuralc`` and ``neuralc-baseline``).
"""

from transformers import AutoConfig, AutoModel

from .configuration import NeuralCompilerBaselineConfig, NeuralCompilerConfig
from .modeling import NeuralCompilerBaseline, NeuralCompilerModel, NeuralCompilerOutput
from .tasks import TASKS, Example, Task, get_task

AutoConfig.register("neuralc", NeuralCompilerConfig, exist_ok=True)
AutoConfig.register("neuralc-baseline", NeuralCompilerBaselineConfig, exist_ok=True)
AutoModel.register(NeuralCompilerConfig, NeuralCompilerModel, exist_ok=True)
AutoModel.register(NeuralCompilerBaselineConfig, NeuralCompilerBaseline, exist_ok=True)

__all__ = [
    "TASKS",
    "Example",
    "NeuralCompilerBaseline",
    "NeuralCompilerBaselineConfig",
    "NeuralCompilerConfig",
    "NeuralCompilerModel",
    "NeuralCompilerOutput",
    "Task",
    "get_task",
]
