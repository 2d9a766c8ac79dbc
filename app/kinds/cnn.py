"""cnn: Conv2D + MaxPooling blocks, then Dense, for small images."""
from app.domain.params import Param
from app.kinds.common import DROPOUT, KERAS_EPOCH_METRICS, L2, TRAINING
from app.kinds.spec import Input, KindSpec

SPEC = KindSpec(
    name="cnn",
    title="Convolutional network (CNN)",
    data_kinds=("images",),
    input=Input.IMAGES,
    trainer="workers.trainers.cnn:train",
    params=(
        Param("conv_layers", int, 2, "Conv2D + MaxPooling blocks.", min=1, max=6),
        Param("filters", int, 32, "Filters in the first Conv2D layer (doubled in each later block).",
              min=1, max=512),
        Param("kernel_size", int, 3, "Height and width of each convolution kernel.", min=1, max=9),
        Param("dense_units", int, 64, "Units in the Dense layer after the convolutions.", min=1, max=4096),
        DROPOUT,
        L2,
        *TRAINING,
    ),
    epoch_metrics=KERAS_EPOCH_METRICS,
)
