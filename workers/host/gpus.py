"""Finding the GPUs of this host, and reading how busy they are, without TensorFlow.

nvidia-ml-py (NVML) answers when the driver's library is present; otherwise the
``nvidia-smi`` command does. No driver and no command: no GPU, and that is normal.
"""
from __future__ import annotations

import logging
import re
import shutil
import subprocess
from dataclasses import asdict, dataclass

log = logging.getLogger(__name__)
SMI_QUERY = ["--query-gpu=index,name,uuid,memory.total,memory.used,utilization.gpu",
             "--format=csv,noheader,nounits"]
SMI_LIST_LINE = re.compile(r"^GPU (\d+): (.+?) \(UUID: ([^)]+)\)")


@dataclass(frozen=True)
class Gpu:
    index: int
    name: str
    uuid: str | None = None
    memory_total_mb: int | None = None
    memory_used_mb: int | None = None
    utilization_pct: int | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def discover() -> list[Gpu]:
    """Every GPU of this host, in index order; [] on a machine without any."""
    gpus = _from_nvml()
    if gpus is None:
        gpus = _from_nvidia_smi()
    return gpus or []


def _from_nvml() -> list[Gpu] | None:
    try:
        import pynvml
    except ImportError:
        return None
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError:  # no driver library: not a GPU host, or a container without the runtime
        return None
    try:
        return [_nvml_gpu(pynvml, i, pynvml.nvmlDeviceGetHandleByIndex(i))
                for i in range(pynvml.nvmlDeviceGetCount())]
    except pynvml.NVMLError:
        log.warning("NVML failed while listing GPUs", exc_info=True)
        return None
    finally:
        pynvml.nvmlShutdown()


def _nvml_gpu(pynvml, index: int, handle) -> Gpu:
    def text(value) -> str:
        return value.decode() if isinstance(value, bytes) else str(value)

    mem = pynvml.nvmlDeviceGetMemoryInfo(handle)
    try:
        util = int(pynvml.nvmlDeviceGetUtilizationRates(handle).gpu)
    except pynvml.NVMLError:
        util = None
    return Gpu(index, text(pynvml.nvmlDeviceGetName(handle)), text(pynvml.nvmlDeviceGetUUID(handle)),
               mem.total // 2**20, mem.used // 2**20, util)


def _from_nvidia_smi() -> list[Gpu] | None:
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return None
    try:
        out = subprocess.run([smi, *SMI_QUERY], capture_output=True, text=True, timeout=20)
        if out.returncode == 0 and out.stdout.strip():
            return parse_query(out.stdout)
        listing = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        log.warning("nvidia-smi did not answer", exc_info=True)
        return None
    return parse_listing(listing.stdout) if listing.returncode == 0 else None


def parse_query(csv_text: str) -> list[Gpu]:
    """Rows of ``nvidia-smi --query-gpu=index,name,uuid,memory.total,memory.used,utilization.gpu``."""
    def number(value: str) -> int | None:
        value = value.strip()
        return int(float(value)) if value and value.replace(".", "", 1).isdigit() else None

    gpus = []
    for line in csv_text.strip().splitlines():
        cells = [c.strip() for c in line.split(",")]
        if len(cells) >= 6 and cells[0].isdigit():
            gpus.append(Gpu(int(cells[0]), cells[1], cells[2] or None, number(cells[3]), number(cells[4]),
                            number(cells[5])))
    return sorted(gpus, key=lambda g: g.index)


def parse_listing(text: str) -> list[Gpu]:
    """Lines of ``nvidia-smi -L``: ``GPU 0: NVIDIA A100-SXM4-40GB (UUID: GPU-...)``."""
    found = (SMI_LIST_LINE.match(line.strip()) for line in text.splitlines())
    return [Gpu(int(m.group(1)), m.group(2), m.group(3)) for m in found if m]


def live_stats(advertised: list[dict]) -> list[dict]:
    """The advertised GPUs with memory and utilisation read now (by uuid), where the host can say."""
    if not advertised:
        return []
    now = {g.uuid: g for g in discover() if g.uuid}
    out = []
    for gpu in advertised:
        fresh = now.get(gpu.get("uuid"))
        out.append({**gpu, **({k: v for k, v in fresh.to_dict().items() if k != "index"} if fresh else {})})
    return out
