"""Processes and devices of a run: DistributedDataParallel setup under ``torchrun``, the
device of each rank, and the end-of-run check that every replica holds the same weights.

Under ``torchrun --nproc_per_node=N`` every process trains on its shard of each global batch
with DistributedDataParallel: gloo on CPU, nccl on CUDA.
"""

from __future__ import annotations

import hashlib
import os

import torch

from ..lang.errors import UsageError

__all__ = ["compare_replicas", "device_for", "init_distributed", "weights_sha256"]


def init_distributed(device: str = "cpu"):
    """``(rank, world, initialised here?)``; the process group (nccl for a CUDA ``device``,
    else gloo) is started when ``torchrun`` set ``WORLD_SIZE`` > 1."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return 0, 1, False
    import torch.distributed as dist

    if not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() and device.startswith("cuda") else "gloo"
        dist.init_process_group(backend)
        return dist.get_rank(), dist.get_world_size(), True
    return dist.get_rank(), dist.get_world_size(), False


def device_for(name: str, rank: int) -> torch.device:
    """The device of this rank: ``cuda`` under torchrun means the rank's own GPU."""
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise UsageError(f"--device {name}: CUDA is not available on this machine")
        if name == "cuda" and int(os.environ.get("WORLD_SIZE", "1")) > 1:
            name = f"cuda:{int(os.environ.get('LOCAL_RANK', rank))}"
        torch.cuda.set_device(torch.device(name))
    elif name != "cpu" and name != "mps":
        raise UsageError(f"unknown device {name!r} (cpu, cuda, cuda:N)")
    return torch.device(name)


def weights_sha256(model) -> str:
    h = hashlib.sha256()
    for k, v in sorted(model.state_dict().items()):
        h.update(k.encode())
        h.update(v.detach().cpu().contiguous().view(torch.uint8).numpy().tobytes()
                 if v.dtype != torch.bool else v.cpu().numpy().tobytes())
    return h.hexdigest()


def compare_replicas(model, device, own_pg: bool) -> dict:
    """Every rank's weight digest, gathered; then the process group is torn down.

    Teardown order matters (measured: a rank hung at exit under CPU load, gdb showed it): if the
    last reference to the gloo process group is dropped by the DDP reducer's destructor on the
    main thread (GIL held, joining gloo's worker threads) while a worker thread still destroys a
    finished collective whose tensor's Python object it owns (it needs the GIL to free it), the
    two wait on each other forever. So: the caller drops the DDP wrapper first; we gather into
    tensors that Python keeps alive until after ``destroy_process_group``, and synchronise first.
    """
    import torch.distributed as dist

    world = dist.get_world_size()
    mine = torch.tensor(list(bytes.fromhex(weights_sha256(model))), dtype=torch.uint8,
                        device=device)
    gathered = [torch.empty_like(mine) for _ in range(world)]
    dist.all_gather(gathered, mine)
    shas = [bytes(g.cpu().tolist()).hex() for g in gathered]
    dist.barrier()
    if own_pg:
        dist.destroy_process_group()
    del mine, gathered  # only now: no collective can still hold them
    return {"replica_sha256": shas, "replicas_identical": len(set(shas)) == 1}
