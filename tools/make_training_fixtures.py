"""Reference values for DiscernTraining, computed with PyTorch (run with /usr/bin/python3).

Writes Tests/Fixtures/training/adam_ce.safetensors: random features [64, 16], labels of 3
classes, an nn.Linear head, a fixed batch order, and what torch's nn.CrossEntropyLoss +
torch.optim.Adam produce from them: the loss and running accuracy per step, the gradients of
step 1, and the final weights (also for a weight-decay run and a partial last batch).
"""
import os, sys
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
from fixture_io import save

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "Fixtures", "training")
N, F, C, B, EPOCHS = 64, 16, 3, 24, 25         # 64 / 24 -> batches of 24, 24, 16 (partial last one)


def run(x, y, head_w, head_b, order, weight_decay):
    head = torch.nn.Linear(F, C)
    with torch.no_grad():
        head.weight.copy_(head_w); head.bias.copy_(head_b)
    opt = torch.optim.Adam(head.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=weight_decay)
    ce = torch.nn.CrossEntropyLoss()
    losses, running, grads = [], [], None
    for ep in range(EPOCHS):
        correct = seen = 0
        perm = order[ep]
        for s in range(0, N, B):
            idx = torch.from_numpy(perm[s:s + B])
            xb, yb = x[idx], y[idx]
            opt.zero_grad()
            out = head(xb)
            loss = ce(out, yb)
            loss.backward()
            if grads is None:
                grads = (head.weight.grad.clone(), head.bias.grad.clone(), out.detach().clone(), loss.item())
            opt.step()
            correct += (out.argmax(1) == yb).sum().item(); seen += len(yb)
            losses.append(loss.item()); running.append(correct / seen)
    return head, np.array(losses), np.array(running), grads


def main():
    torch.manual_seed(7)
    rng = np.random.default_rng(7)
    x = torch.randn(N, F) * 1.5
    y = torch.from_numpy(rng.integers(0, C, size=N))
    x = x + 0.8 * torch.nn.functional.one_hot(y, F).float()   # learnable but not trivial
    init = torch.nn.Linear(F, C)
    w0, b0 = init.weight.detach().clone(), init.bias.detach().clone()
    order = np.stack([rng.permutation(N) for _ in range(EPOCHS)])
    head, losses, running, (gw, gb, logits1, loss1) = run(x, y, w0, b0, order, 0.0)
    head_wd, losses_wd, _, _ = run(x, y, w0, b0, order, 0.01)
    arrays = {
        "features": x.numpy(), "labels": y.numpy().astype(np.int64), "order": order.astype(np.int64),
        "w0": w0.numpy(), "b0": b0.numpy(),
        "losses": losses, "running_accuracy": running,
        "grad_w_step1": gw.numpy(), "grad_b_step1": gb.numpy(), "logits_step1": logits1.numpy(),
        "softmax_step1": torch.softmax(logits1, 1).numpy(),
        "w_final": head.weight.detach().numpy(), "b_final": head.bias.detach().numpy(),
        "w_final_wd": head_wd.weight.detach().numpy(), "b_final_wd": head_wd.bias.detach().numpy(),
        "losses_wd": losses_wd,
    }
    os.makedirs(OUT, exist_ok=True)
    save(os.path.join(OUT, "adam_ce.safetensors"), arrays,
         {"batch": B, "epochs": EPOCHS, "lr": 1e-3, "weight_decay_run": 0.01, "torch": torch.__version__})
    make_eval_fixture()
    print("steps", len(losses), "final loss", losses[-1], "running acc", running[-1])


def make_eval_fixture():
    """Logits of 4 classes with sklearn's confusion matrix and per-class precision/recall."""
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support
    torch.manual_seed(11)
    rng = np.random.default_rng(11)
    y = rng.integers(0, 4, size=40)
    logits = torch.randn(40, 4) * 2 + 2.5 * torch.nn.functional.one_hot(torch.from_numpy(y), 4).float()
    pred = logits.argmax(1).numpy()
    p, r, f1, support = precision_recall_fscore_support(y, pred, labels=range(4), zero_division=0)
    save(os.path.join(OUT, "eval.safetensors"), {
        "logits": logits.numpy(), "labels": y.astype(np.int64), "softmax": torch.softmax(logits, 1).numpy(),
        "confusion": confusion_matrix(y, pred, labels=range(4)).astype(np.int64),
        "precision": p, "recall": r, "f1": f1, "support": support.astype(np.int64),
    }, {"sklearn": "precision_recall_fscore_support, confusion_matrix"})


if __name__ == "__main__":
    main()
