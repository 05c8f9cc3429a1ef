"""Non-trivial BatchNorm parameters and statistics for random-weight references, so that batch-norm folding is
really exercised (the defaults, weight 1, bias 0, mean 0, variance 1, would hide a folding error)."""
import torch


def randomize_bn(model, g):
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            c = m.num_features
            m.weight.data = 0.5 + torch.rand(c, generator=g)
            m.bias.data = 0.2 * torch.randn(c, generator=g)
            m.running_mean.data = 0.2 * torch.randn(c, generator=g)
            m.running_var.data = 0.5 + torch.rand(c, generator=g)
