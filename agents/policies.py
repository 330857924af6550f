"""Warm recurrent actor-critic policies: sb3-contrib's recurrent policy on `warm_rl` backbones.

``RecurrentPPO("MlpLstmPolicy", env)`` becomes ``RecurrentPPO(MlpWarmPolicy, env)``
(or :class:`agents.WarmRecurrentPPO`): the actor and critic LSTMs are replaced by
:class:`warm_rl.RecurrentNet` of any cell, double or not, and the policy can warm
them up (or LSC-pre-train them) on rollout sequences (:meth:`WarmRecurrentPolicy.pretrain_backbones`).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch as th
from gymnasium import spaces
from sb3_contrib.common.recurrent.policies import RecurrentActorCriticPolicy
from stable_baselines3.common.preprocessing import preprocess_obs
from stable_baselines3.common.torch_layers import CombinedExtractor, MlpExtractor, NatureCNN
from stable_baselines3.common.type_aliases import Schedule
from stable_baselines3.common.utils import obs_as_tensor

from agents.defaults import DEFAULT_FEATURE_SKIP, DEFAULT_PRETRAIN, DEFAULT_WARMUP, PRETRAIN_CHOICES
from warm_rl import CELL_NAMES, LSCConfig, LSCReport, RecurrentNet, WarmupConfig, WarmupReport, lsc_pretrain, warm_up
from warm_rl.validation import check_bool, check_int, reject_renamed

RENAMED_KWARGS: dict[str, str] = {"n_layers": "num_layers"}
"""Old WarmRecurrentPolicy argument names and their new names (the old ones raise ``TypeError``)."""

Observation = np.ndarray | dict[str, np.ndarray]


class WarmRecurrentPolicy(RecurrentActorCriticPolicy):
    """Recurrent actor-critic policy whose backbones are warm-up-ready `RecurrentNet`.

    Everything :class:`sb3_contrib.common.recurrent.policies.RecurrentActorCriticPolicy`
    accepts is accepted too (``net_arch``, ``features_extractor_class``, ...),
    except the LSTM-specific ``lstm_hidden_size``, ``n_lstm_layers`` and
    ``lstm_kwargs``, which are replaced by:

    Args:
        observation_space: as for the parent.
        action_space: as for the parent.
        lr_schedule: as for the parent.
        cell: backbone cell, one of ``warm_rl.CELL_NAMES``.
        hidden_size: width of every recurrent layer.
        num_layers: number of recurrent layers.
        double: double layers (only their first half is warmed up).
        pretrain: the pre-training of the backbones before the first update,
            one of :data:`agents.defaults.PRETRAIN_CHOICES`: ``"warmup"``,
            ``"lsc"`` (Local Stability Condition, :func:`warm_rl.lsc_pretrain`),
            ``"warmup+lsc"`` (warm-up, then LSC on the cold halves of double
            layers; on single layers LSC then acts on the warmed-up weights) or None;
            ``"default"``: :data:`agents.defaults.DEFAULT_PRETRAIN` (``"warmup+lsc"``),
            or None when ``warmup`` is None.
        warmup: the warm-up settings: a :class:`warm_rl.WarmupConfig`, a dict of
            its fields, or ``"default"`` (:data:`agents.defaults.DEFAULT_WARMUP`).
            None disables warm-up (``pretrain="warmup"`` or ``"default"`` then means
            None; with ``"warmup+lsc"`` it is an error).
        lsc: the LSC settings: a :class:`warm_rl.LSCConfig`, a dict of its fields,
            or None (its defaults). Used when ``pretrain`` includes ``"lsc"``.
        warmup_critic: pre-train the critic's backbone too (when it has one).
        cell_kwargs: extra cell arguments (``{"t_max": ...}`` for ``"chrono"``).
        feature_skip: the actor and critic heads see the current features
            beside the recurrent output (``[output, features]``): what the
            observation alone tells does not have to pass through the
            (slow, multistable) recurrent dynamics. Default
            :data:`agents.defaults.DEFAULT_FEATURE_SKIP` (on).
        **kwargs: the parent's other arguments.

    Attributes:
        pretrain: the resolved pre-training (None when it is off).
        warmed_up: a bool buffer (saved with the weights), true once pre-trained
            (whatever ``pretrain`` is); a loaded policy is never pre-trained again.
    """

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        lr_schedule: Schedule,
        cell: str = "gru",
        hidden_size: int = 64,
        num_layers: int = 1,
        double: bool = True,
        pretrain: str | None = "default",
        warmup: WarmupConfig | dict | str | None = "default",
        lsc: LSCConfig | dict | None = None,
        warmup_critic: bool = True,
        cell_kwargs: dict[str, Any] | None = None,
        feature_skip: bool = DEFAULT_FEATURE_SKIP,
        **kwargs: Any,
    ) -> None:
        reject_renamed("WarmRecurrentPolicy", kwargs, RENAMED_KWARGS)
        for name in ("lstm_hidden_size", "n_lstm_layers", "lstm_kwargs"):
            if name in kwargs:
                raise TypeError(f"{name} is an LSTM setting; use hidden_size, num_layers, cell_kwargs")
        if cell not in CELL_NAMES:
            raise ValueError(f"unknown cell {cell!r}; expected one of {', '.join(CELL_NAMES)}")
        check_int("hidden_size", hidden_size, minimum=1)
        check_int("num_layers", num_layers, minimum=1)
        self.cell = cell
        self.double = check_bool("double", double)
        if cell_kwargs is not None and not isinstance(cell_kwargs, dict):
            raise TypeError(f"cell_kwargs must be a dict or None, got {type(cell_kwargs).__name__} {cell_kwargs!r}")
        self.cell_kwargs = dict(cell_kwargs or {})
        if isinstance(warmup, str):
            if warmup != "default":
                raise ValueError(f"warmup must be a WarmupConfig, dict, 'default' or None, got {warmup!r}")
            warmup = DEFAULT_WARMUP
        self.warmup_config = None if warmup is None else WarmupConfig.from_value(warmup)
        self.lsc_config = LSCConfig.from_value(lsc)
        self.pretrain = _resolve_pretrain(pretrain, self.warmup_config is not None)
        if not self.double and self.lsc_config.halves is not None:
            raise ValueError(f"lsc halves={self.lsc_config.halves!r} needs double=True; leave it None")
        self.warmup_critic = check_bool("warmup_critic", warmup_critic)
        self.feature_skip = check_bool("feature_skip", feature_skip)
        super().__init__(
            observation_space,
            action_space,
            lr_schedule,
            lstm_hidden_size=hidden_size,
            n_lstm_layers=num_layers,
            **kwargs,
        )
        self.lstm_actor = self._make_backbone(hidden_size, num_layers)
        if self.lstm_critic is not None:
            self.lstm_critic = self._make_backbone(hidden_size, num_layers)
        if self.critic is not None and self.feature_skip:
            self.critic = _LinearWithSkip(self.critic)
        self.register_buffer("warmed_up", th.zeros((), dtype=th.bool))
        self.to(self.device)
        # The parent built its optimizer over the LSTMs just replaced.
        self.optimizer = self.optimizer_class(self.parameters(), lr=lr_schedule(1), **self.optimizer_kwargs)

    def _build(self, lr_schedule: Schedule) -> None:
        # get_flattened_obs_dim gives a numpy int for MultiDiscrete spaces, which nn.LSTM rejects.
        self.features_dim = int(self.features_dim)
        super()._build(lr_schedule)

    def _build_mlp_extractor(self) -> None:
        width = self.lstm_output_dim + (self.features_dim if self.feature_skip else 0)
        self.mlp_extractor = MlpExtractor(
            width, net_arch=self.net_arch, activation_fn=self.activation_fn, device=self.device
        )

    def _make_backbone(self, hidden_size: int, num_layers: int) -> RecurrentNet:
        return RecurrentNet(
            self.cell, self.features_dim, hidden_size, num_layers, double=self.double, **self.cell_kwargs
        )

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()
        for name in ("lstm_hidden_size", "n_lstm_layers", "lstm_kwargs"):
            data.pop(name, None)
        data.update(
            cell=self.cell,
            hidden_size=self.lstm_output_dim,
            num_layers=self.lstm_actor.num_layers,
            double=self.double,
            pretrain=self.pretrain,
            warmup=None if self.warmup_config is None else self.warmup_config.to_dict(),
            lsc=self.lsc_config.to_dict(),
            warmup_critic=self.warmup_critic,
            cell_kwargs=self.cell_kwargs,
            feature_skip=self.feature_skip,
        )
        return data

    def _process_sequence(
        self,
        features: th.Tensor,
        lstm_states: tuple[th.Tensor, th.Tensor],
        episode_starts: th.Tensor,
        lstm: RecurrentNet,
    ) -> tuple[th.Tensor, tuple[th.Tensor, th.Tensor]]:
        """One backbone call for the whole batch, resets included (no per-step loop).

        Shape:
            features ``(n_seq * T, features_dim)`` ordered sequence by sequence;
            lstm_states ``(num_layers, n_seq, hidden)`` each; episode_starts
            ``(n_seq * T,)``; returns ``(n_seq * T, hidden)`` (``hidden +
            features_dim`` with ``feature_skip``) and the new states.
        """
        n_seq = lstm_states[0].shape[1]
        sequence = features.reshape(n_seq, -1, lstm.input_size).transpose(0, 1)
        starts = episode_starts.reshape(n_seq, -1).transpose(0, 1) > 0.5
        output, states = lstm(sequence, lstm_states, reset_mask=starts)
        output = output.transpose(0, 1).reshape(-1, output.shape[-1])
        if self.feature_skip:
            output = th.cat([output, features], dim=-1)
        return output, states

    # ---------------------------------------------------------------- warm-up
    def backbones(self) -> dict[str, RecurrentNet]:
        """The recurrent backbones warm-up acts on, by name (``actor``, ``critic``)."""
        nets = {"actor": self.lstm_actor}
        if self.lstm_critic is not None and self.warmup_critic:
            nets["critic"] = self.lstm_critic
        return nets

    def episode_features(self, episodes: Sequence[Observation]) -> dict[str, list[th.Tensor]]:
        """Maps observation sequences through the features extractors, as in training.

        Args:
            episodes: one entry per trajectory: an array of observations
                ``(len_i, *obs_shape)`` (or a dict of such arrays for Dict spaces).

        Returns:
            Per backbone name, the feature sequences ``(len_i, features_dim)``.
        """
        if len(episodes) == 0:
            raise ValueError("episodes is empty: need at least one observation sequence")
        lengths = [len(next(iter(ep.values()))) if isinstance(ep, dict) else len(ep) for ep in episodes]
        if min(lengths) < 1:
            raise ValueError(f"every episode needs >= 1 observation, got lengths {lengths}")
        if isinstance(episodes[0], dict):
            stacked = {key: np.concatenate([ep[key] for ep in episodes]) for key in episodes[0]}
        else:
            stacked = np.concatenate([np.asarray(ep) for ep in episodes])
        obs = obs_as_tensor(stacked, self.device)
        with th.no_grad():
            preprocessed = preprocess_obs(obs, self.observation_space, self.normalize_images)
            actor = self.pi_features_extractor(preprocessed)
            critic = actor if self.share_features_extractor else self.vf_features_extractor(preprocessed)
        return {
            "actor": list(th.split(actor, lengths)),
            "critic": list(th.split(critic, lengths)),
        }

    def warm_up(
        self,
        episodes: Sequence[Observation],
        config: WarmupConfig | dict | None = None,
        callback=None,
    ) -> dict[str, WarmupReport]:
        """Warms the backbones up on observation sequences and marks the policy warmed up.

        Args:
            episodes: observation sequences, whole episodes or truncated
                trajectories, each ``(len_i, *obs_shape)`` (dicts for Dict spaces).
            config: overrides the policy's ``warmup`` setting.
            callback: called as ``callback(name, step, loss, vaa_star)`` after
                every warm-up step of backbone ``name``.

        Returns:
            The warm-up report of each backbone, by name.
        """
        if config is None and self.warmup_config is None:
            raise ValueError("this policy was built with warmup=None; pass a config to warm it up")
        return self.warm_up_features(self.episode_features(episodes), config, callback)

    def warm_up_features(
        self,
        features: dict[str, list[th.Tensor]],
        config: WarmupConfig | dict | None = None,
        callback=None,
    ) -> dict[str, WarmupReport]:
        """:meth:`warm_up` on sequences already mapped by :meth:`episode_features`.

        Args:
            features: per backbone name, feature sequences ``(len_i, features_dim)``.
            config: overrides the policy's ``warmup`` setting.
            callback: as for :meth:`warm_up`.
        """
        if config is None and self.warmup_config is None:
            raise ValueError("this policy was built with warmup=None; pass a config to warm it up")
        config = WarmupConfig.from_value(config if config is not None else self.warmup_config)
        return self._each_backbone(warm_up, features, config, callback)

    def lsc_features(
        self,
        features: dict[str, list[th.Tensor]],
        config: LSCConfig | dict | None = None,
        callback=None,
    ) -> dict[str, LSCReport]:
        """LSC pre-training of the backbones on feature sequences; marks the policy pre-trained.

        Backbones warmed up before (``"warmup+lsc"``) keep their warm halves: LSC
        trains the cold halves of their double layers (:class:`warm_rl.LSCConfig`'s
        ``halves``). There is no readout term: the heads see ``[output, features]``.

        Args:
            features: per backbone name, feature sequences ``(len_i, features_dim)``.
            config: overrides the policy's ``lsc`` setting.
            callback: called as ``callback(name, step, loss, radii)`` after every
                LSC step of backbone ``name`` (``radii``: term name -> batch-mean radius).
        """
        config = LSCConfig.from_value(config if config is not None else self.lsc_config)
        return self._each_backbone(lsc_pretrain, features, config, callback)

    def _each_backbone(self, pretrain, features: dict[str, list[th.Tensor]], config, callback) -> dict:
        """``pretrain(net, sequences, config, callback=...)`` on every backbone; marks the policy pre-trained.

        ``callback(name, step, ...)`` becomes the per-backbone ``callback(step, ...)``.
        """
        reports = {}
        for name, net in self.backbones().items():
            step_callback = None if callback is None else functools.partial(callback, name)
            reports[name] = pretrain(net, features[name], config, callback=step_callback)
        self.warmed_up.fill_(True)
        return reports

    def pretrain_features(
        self,
        features: dict[str, list[th.Tensor]],
        warmup_callback=None,
        lsc_callback=None,
    ) -> dict[str, dict[str, WarmupReport] | dict[str, LSCReport]]:
        """The policy's ``pretrain`` on feature sequences: warm-up, LSC, or warm-up then LSC.

        Args:
            features: per backbone name, feature sequences ``(len_i, features_dim)``.
            warmup_callback: as :meth:`warm_up`'s ``callback``.
            lsc_callback: as :meth:`lsc_features`'s ``callback``.

        Returns:
            ``{"warmup": reports by backbone, "lsc": reports by backbone}``, each
            present when that pre-training ran.

        Raises:
            ValueError: the policy was built with pre-training off.
        """
        if self.pretrain is None:
            raise ValueError("this policy was built with pretrain=None (or warmup=None): nothing to pre-train")
        done = {}
        if "warmup" in self.pretrain:
            done["warmup"] = self.warm_up_features(features, callback=warmup_callback)
        if "lsc" in self.pretrain:
            done["lsc"] = self.lsc_features(features, callback=lsc_callback)
        return done


def _resolve_pretrain(pretrain: object, has_warmup: bool) -> str | None:
    """``pretrain`` checked against :data:`PRETRAIN_CHOICES` (``"default"``: :data:`DEFAULT_PRETRAIN`),
    with ``warmup=None`` meaning no warm-up."""
    if pretrain is not None and not isinstance(pretrain, str):
        raise TypeError(f"pretrain must be a str or None, got {type(pretrain).__name__}")
    if pretrain == "default":
        return DEFAULT_PRETRAIN if has_warmup else None  # warmup=None: the cold agent, as it always was
    if pretrain not in PRETRAIN_CHOICES:
        raise ValueError(f"unknown pretrain {pretrain!r}; expected one of {PRETRAIN_CHOICES} or 'default'")
    if has_warmup or pretrain is None or pretrain == "lsc":
        return pretrain
    if pretrain == "warmup":
        return None  # warmup=None: the way warm-up was turned off before pretrain existed
    raise ValueError(f"pretrain={pretrain!r} warms up, but warmup=None; give a warm-up config or pretrain='lsc'")


class _LinearWithSkip(th.nn.Module):
    """The critic of a policy without critic backbone, with ``feature_skip``: ``[linear(x), x]``.

    Shape:
        ``(B, features_dim)`` -> ``(B, hidden + features_dim)``.
    """

    def __init__(self, linear: th.nn.Linear) -> None:
        super().__init__()
        self.linear = linear

    def forward(self, features: th.Tensor) -> th.Tensor:
        return th.cat([self.linear(features), features], dim=-1)


class CnnWarmPolicy(WarmRecurrentPolicy):
    """:class:`WarmRecurrentPolicy` with the Nature CNN features extractor (image observations)."""

    def __init__(self, observation_space, action_space, lr_schedule, **kwargs: Any) -> None:
        kwargs.setdefault("features_extractor_class", NatureCNN)
        super().__init__(observation_space, action_space, lr_schedule, **kwargs)


class MultiInputWarmPolicy(WarmRecurrentPolicy):
    """:class:`WarmRecurrentPolicy` with the combined extractor (Dict observations)."""

    def __init__(self, observation_space, action_space, lr_schedule, **kwargs: Any) -> None:
        kwargs.setdefault("features_extractor_class", CombinedExtractor)
        super().__init__(observation_space, action_space, lr_schedule, **kwargs)


MlpWarmPolicy = WarmRecurrentPolicy
