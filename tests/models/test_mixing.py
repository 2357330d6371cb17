import pytest
import torch

from slr_pose.errors import SlrPoseError
from slr_pose.models import mix_within_language

COUNTS = torch.tensor([5, 2, 3])  # classes per language id


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


@pytest.mark.parametrize("mode", ["mixup", "cutmix"])
def test_mixing_never_crosses_languages(batch, mode):
    x, mask, y, lang = batch
    for seed in range(20):
        out = mix_within_language(x, mask, y, lang, 5, mode=mode, generator=torch.Generator().manual_seed(seed))
        assert (lang[out.partner] == lang).all()
        assert sorted(out.partner.tolist()) == list(range(12))  # a permutation inside each language
        valid = torch.arange(5)[None] < COUNTS[lang][:, None]
        assert (out.target[~valid] == 0).all()
        torch.testing.assert_close(out.target.sum(1), torch.ones(12))
        expected = out.lam[:, None] * torch.eye(5)[y] + (1 - out.lam[:, None]) * torch.eye(5)[y[out.partner]]
        torch.testing.assert_close(out.target, expected)


def test_mixup_blends_real_frames_by_lam(batch):
    x, mask, y, lang = batch
    out = mix_within_language(x, mask, y, lang, 5, "mixup", alpha=0.8, generator=torch.Generator().manual_seed(4))
    clean = x * mask[:, None, :, None]
    p, lam = out.partner, out.lam.view(-1, 1, 1, 1)
    torch.testing.assert_close(out.x, lam * clean + (1 - lam) * clean[p])
    assert (out.frame_mask == (mask | mask[p])).all()
    assert ((out.lam > 0) & (out.lam < 1)).all()
    assert (out.x.abs() < 100.0).all()  # no padding garbage leaks into the mix


def test_temporal_cutmix_pastes_a_run_of_partner_frames(batch):
    x, mask, y, lang = batch
    out = mix_within_language(x, mask, y, lang, 5, "cutmix", alpha=1.0, generator=torch.Generator().manual_seed(7))
    assert (out.frame_mask == mask).all()
    mixed_any = False
    for i in range(12):
        j, n = int(out.partner[i]), int(mask[i].sum())
        own = (out.x[i] == x[i]).all(0).all(-1)  # (T,) frames still the sample's own
        pasted = torch.nonzero(~own[:n])[:, 0]
        if len(pasted):
            mixed_any = True
            assert pasted.max() - pasted.min() + 1 == len(pasted)  # one contiguous run
            run = out.x[i][:, pasted]
            starts = [s for s in range(int(mask[j].sum()) - len(pasted) + 1)
                      if torch.equal(x[j][:, s:s + len(pasted)], run)]
            assert starts, "pasted frames must be a run of the partner's real frames"
        assert own[n:].all()  # padding stays as it was
        assert out.lam[i].item() == pytest.approx(1 - len(pasted) / n)
    assert mixed_any


def test_mixing_is_reproducible_under_a_generator(batch):
    x, mask, y, lang = batch
    for mode in ("mixup", "cutmix"):
        a = mix_within_language(x, mask, y, lang, 5, mode, generator=torch.Generator().manual_seed(11))
        b = mix_within_language(x, mask, y, lang, 5, mode, generator=torch.Generator().manual_seed(11))
        c = mix_within_language(x, mask, y, lang, 5, mode, generator=torch.Generator().manual_seed(12))
        assert torch.equal(a.x, b.x) and torch.equal(a.target, b.target) and torch.equal(a.partner, b.partner)
        assert not (torch.equal(a.x, c.x) and torch.equal(a.partner, c.partner))


def test_bad_mixing_options_are_user_errors(batch):
    x, mask, y, lang = batch
    with pytest.raises(SlrPoseError, match="'mosaic'"):
        mix_within_language(x, mask, y, lang, 5, mode="mosaic")
    with pytest.raises(SlrPoseError, match="alpha"):
        mix_within_language(x, mask, y, lang, 5, alpha=0.0)
