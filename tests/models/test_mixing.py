import pytest
import torch

from slr_pose.errors import SlrPoseError
from slr_pose.models import gated_soft_cross_entropy, mix_plan, mix_within_language

CLASSES = {"lsm": 5, "ase": 2, "rsl": 3}
COUNTS = torch.tensor(list(CLASSES.values()))


@pytest.fixture()
def batch(msl):
    x_all, y_all = msl
    pick = torch.arange(0, 86, 7)[:12]
    x = x_all[pick].clone()
    lang = torch.tensor([0, 1, 2, 0, 1, 0, 2, 2, 0, 1, 0, 2])
    y = y_all[pick] % COUNTS[lang]
    lengths = torch.tensor([30, 22, 30, 15, 30, 27, 19, 30, 24, 30, 11, 28])
    mask = torch.arange(30)[None] < lengths[:, None]
    x[~mask[:, None, :, None].expand_as(x)] = 1e3  # padding holds garbage
    return x, mask, y, lang


def _mix(batch, seed, **alphas):
    x, mask, y, lang = batch
    g = torch.Generator().manual_seed(seed)
    plan = mix_plan(lang, mask, generator=torch.Generator().manual_seed(seed), **alphas)
    mixed, soft = mix_within_language(x, y, lang, CLASSES, generator=g, frame_mask=mask, **alphas)
    return plan, mixed, soft


@pytest.mark.parametrize("alphas", [{"mixup_alpha": 0.8}, {"cutmix_alpha": 1.0}, {"mixup_alpha": 0.4, "cutmix_alpha": 1.0}])
def test_mixing_never_crosses_languages(batch, alphas):
    _, _, y, lang = batch
    modes = set()
    for seed in range(20):
        plan, _, soft = _mix(batch, seed, **alphas)
        modes.add(plan.mode)
        partner = torch.from_numpy(plan.partner)
        assert (lang[partner] == lang).all()
        assert sorted(partner.tolist()) == list(range(12))  # a permutation inside each language
        valid = torch.arange(5)[None] < COUNTS[lang][:, None]
        assert (soft[~valid] == 0).all()
        torch.testing.assert_close(soft.sum(1), torch.ones(12))
        lam = torch.as_tensor(plan.lam, dtype=torch.float32)[:, None]
        torch.testing.assert_close(soft, lam * torch.eye(5)[y] + (1 - lam) * torch.eye(5)[y[partner]])
    assert modes == ({"mixup", "cutmix"} if len(alphas) == 2 else {next(iter(alphas)).split("_")[0]})


def test_mixup_blends_real_frames_and_keeps_each_clips_mask(batch):
    x, mask, y, lang = batch
    plan, mixed, _ = _mix(batch, 4, mixup_alpha=0.8)
    p = torch.from_numpy(plan.partner)
    lam = torch.as_tensor(plan.lam, dtype=torch.float32).view(-1, 1, 1, 1)
    real = mask[:, None, :, None].float()
    want = lam * x + (1 - lam) * (x * real)[p]
    torch.testing.assert_close(mixed[real.expand_as(x) > 0], want[real.expand_as(x) > 0])
    assert torch.equal(mixed[real.expand_as(x) == 0], x[real.expand_as(x) == 0])  # own padding untouched
    assert (mixed[real.expand_as(x) > 0].abs() < 100).all()  # no partner padding leaks in
    assert ((plan.lam > 0) & (plan.lam < 1)).all()


def test_temporal_cutmix_pastes_a_run_of_partner_frames(batch):
    x, mask, y, lang = batch
    plan, mixed, _ = _mix(batch, 7, cutmix_alpha=1.0)
    mixed_any = False
    for i in range(12):
        j, n = int(plan.partner[i]), int(mask[i].sum())
        own = (mixed[i] == x[i]).all(0).all(-1)  # (T,) frames still the sample's own
        pasted = torch.nonzero(~own[:n])[:, 0]
        if len(pasted):
            mixed_any = True
            assert pasted.max() - pasted.min() + 1 == len(pasted)  # one contiguous run
            run = mixed[i][:, pasted]
            starts = [s for s in range(int(mask[j].sum()) - len(pasted) + 1)
                      if torch.equal(x[j][:, s:s + len(pasted)], run)]
            assert starts, "pasted frames must be a run of the partner's real frames"
        assert own[n:].all()  # padding stays as it was
        assert plan.lam[i] == pytest.approx(1 - len(pasted) / n)
    assert mixed_any


def test_mixing_is_reproducible_under_a_generator(batch):
    for alphas in ({"mixup_alpha": 0.8}, {"cutmix_alpha": 1.0}):
        _, xa, sa = _mix(batch, 11, **alphas)
        _, xb, sb = _mix(batch, 11, **alphas)
        pc, xc, sc = _mix(batch, 12, **alphas)
        assert torch.equal(xa, xb) and torch.equal(sa, sb)
        assert not (torch.equal(xa, xc) and torch.equal(sa, sc))


def test_no_mixing_and_bad_alphas(batch):
    x, mask, y, lang = batch
    mixed, soft = mix_within_language(x, y, lang, CLASSES)
    assert torch.equal(mixed, x) and torch.equal(soft, torch.eye(5)[y])
    with pytest.raises(SlrPoseError, match="mixup_alpha"):
        mix_within_language(x, y, lang, CLASSES, mixup_alpha=-1.0)


def test_soft_targets_train_through_the_gated_loss(batch):
    x, mask, y, lang = batch
    _, _, soft = _mix(batch, 3, mixup_alpha=0.8)
    logits = torch.randn(12, 5).masked_fill(torch.arange(5)[None] >= COUNTS[lang][:, None], -1e4)
    loss = gated_soft_cross_entropy(logits, soft, lang)
    by_hand = -(soft * torch.log_softmax(logits, 1)).sum(1).mean()
    torch.testing.assert_close(loss, by_hand)
    with pytest.raises(SlrPoseError, match="soft targets"):
        gated_soft_cross_entropy(logits, y, lang)
