"""The networks by name, as data: what `--arch` accepts and what models.build_model builds.

torch-free, so that the command line lists the names without loading torch. Each entry is
(kind, size): "mlp"; "dnn" with its number of convolution filters per layer (the paper's DNN20,
DNN33, DNN50; DNN48W, beyond the paper, has a 1000-wide hidden layer); "features" with a
feature extractor and its head (F: FC33; S: its first layers, then FC500 + FC33), §7.
"""
FEATURE_NETS = ("mobilenet", "resnet18", "resnet34", "squeezenet", "vgg16", "vgg16r")

ARCHITECTURES = {
    "mlp": ("mlp", None),
    "dnn20": ("dnn", 20),
    "dnn33": ("dnn", 33),
    "dnn50": ("dnn", 50),
    # beyond the paper: DNN33 widened for the wide world (issue 15), reachable from a trained
    # DNN33 by train.widen_dnn without changing what it predicts
    "dnn48w": ("dnn_wide", 48),
    **{f"{net}_{head}": (f"features_{head}", net) for net in FEATURE_NETS for head in "fs"},
}
