"""Training curves as a PNG (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

__all__ = ["plot_curves"]


def plot_curves(metrics: list[dict], path: str) -> None:
    """Train loss and validation accuracy per epoch (``test_*`` keys of older runs)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [m["epoch"] for m in metrics]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.5))
    ax1.plot(epochs, [m["train_loss"] for m in metrics], marker="o")
    ax1.set_xlabel("epoch")
    ax1.set_ylabel("train loss (answer cross-entropy)")
    ax1.set_yscale("log")
    split = "validation" if any("validation_accuracy" in m for m in metrics) else "test"
    ax2.plot(epochs, [m.get(f"{split}_accuracy", 0) for m in metrics], marker="o", label="exact")
    if any(f"{split}_slot_accuracy" in m for m in metrics):
        ax2.plot(epochs, [m.get(f"{split}_slot_accuracy", 0) for m in metrics], marker=".",
                 label="per slot")
    ax2.set_xlabel("epoch")
    ax2.set_ylabel(f"{split} accuracy")
    ax2.set_ylim(0, 1.02)
    ax2.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
