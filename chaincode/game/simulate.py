#!/usr/bin/env python3
"""The medbridge incentive game, simulated (chaincode/INCENTIVES.md "Simulation").

Players and strategies:
  verification nodes  honest      sign every packet they are asked to, never a false one
                       abstain     never sign (no cost, no reward)
                       equivocate  sign like honest nodes, and join a coalition that signs a
                                   false packet moving value V whenever k of them can
  relayers             relay       deliver packets and acknowledgements (cost c_r)
                       withhold    never deliver (no cost, no reward)
  sending orgs         send        pay the fee f; gain B per delivered packet, refund on timeout

Money follows the chaincode's rules (rules/fee-split.ts, rules/slashing.ts): integer fee
split floor(f*s/10000) over the signers, the rest to the relayer; a detected forger loses
floor(S*sigma/10000) and, reporting itself first (the worst case), gets back the reporter
share r of it.

Usage: simulate.py [--preset safe|unsafe|both] [--rounds N] [--packets N] [--seed N]
                   [--fee F --stake S --signing-cost C ... overrides] [--out DIR]
Prints a table per preset and writes DIR/payoffs-<preset>.png (and payoffs.png for both).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
from dataclasses import dataclass, field

HERE = os.path.dirname(os.path.abspath(__file__))
BPS = 10_000

SIGNER_STRATEGIES = ("honest", "abstain", "equivocate")
RELAYER_STRATEGIES = ("relay", "withhold")


# ----------------------------------------------------------------------------- constraints
def violations(p: dict) -> list[str]:
    """Mirror of chaincode/src/rules/parameter-safety.ts paramViolations (exact integers)."""
    v = []
    pool = p["minFee"] * p["signerShareBps"] // BPS
    if pool < p["maxSignersPerProof"] * p["signingCost"]:
        v.append(f"C1 signer participation: pool {pool} < n*c_s {p['maxSignersPerProof'] * p['signingCost']}")
    if p["minFee"] - pool < p["relayCost"]:
        v.append(f"C2 relayer participation: relayer share {p['minFee'] - pool} < c_r {p['relayCost']}")
    lhs = p["minSignersPerProof"] * p["detectionBps"] * p["slashBps"] * (BPS - p["reporterShareBps"]) * p["minStake"]
    if lhs <= p["maxPacketValue"] * BPS**3:
        v.append(f"C3 deterrence: k*p*sigma*(1-r)*S = {lhs // BPS**3} <= V {p['maxPacketValue']}")
    reward = p["minStake"] * p["slashBps"] // BPS * p["reporterShareBps"] // BPS
    if reward < p["reportCost"]:
        v.append(f"C4 reporting: reporter reward {reward} < c_e {p['reportCost']}")
    if p["unbondingPeriodMs"] < p["evidenceWindowMs"]:
        v.append("C5 unbonding: unbonding period shorter than the evidence window")
    return v


# ----------------------------------------------------------------------------- model
@dataclass
class Config:
    params: dict
    rounds: int = 1000
    packets: int = 20
    attack_rate: float = 0.05
    benefit: int = 400
    signers: dict = field(default_factory=lambda: {"honest": 6, "abstain": 3, "equivocate": 3})
    relayers: dict = field(default_factory=lambda: {"relay": 2, "withhold": 2})
    senders: int = 2
    seed: int = 7


@dataclass
class Player:
    name: str
    role: str
    strategy: str
    total: int = 0
    history: list = field(default_factory=list)


def simulate(cfg: Config) -> tuple[list[Player], dict]:
    p = cfg.params
    rng = random.Random(cfg.seed)
    signers = [Player(f"node{i}", "signer", s) for i, s in enumerate(s for s, n in cfg.signers.items() for _ in range(n))]
    relayers = [Player(f"relayer{i}", "relayer", s) for i, s in enumerate(s for s, n in cfg.relayers.items() for _ in range(n))]
    senders = [Player(f"org{i}", "sender", "send") for i in range(cfg.senders)]
    players = signers + relayers + senders
    stats = {"delivered": 0, "timed_out": 0, "attacks": 0, "attacks_detected": 0, "slashed": 0}

    fee = p["minFee"]
    pool = fee * p["signerShareBps"] // BPS
    k = p["minSignersPerProof"]
    slash = p["minStake"] * p["slashBps"] // BPS
    give_back = slash * p["reporterShareBps"] // BPS  # the forger reports itself first
    detect = p["detectionBps"] / BPS

    for _ in range(cfg.rounds):
        willing = [s for s in signers if s.strategy in ("honest", "equivocate")]
        relaying = [r for r in relayers if r.strategy == "relay"]
        for _ in range(cfg.packets):
            sender = rng.choice(senders)
            n = min(p["maxSignersPerProof"], len(willing))
            if n < k or not relaying:
                stats["timed_out"] += 1  # fee escrowed, then refunded: net 0 for the sender
                continue
            chosen = rng.sample(willing, n)
            per = pool // n
            for s in chosen:
                s.total += per - p["signingCost"]
            relayer = rng.choice(relaying)
            relayer.total += fee - per * n - p["relayCost"]
            sender.total += cfg.benefit - fee
            stats["delivered"] += 1
        forgers = [s for s in signers if s.strategy == "equivocate"]
        if len(forgers) >= k and rng.random() < cfg.attack_rate:
            stats["attacks"] += 1
            coalition = rng.sample(forgers, k)
            gain = p["maxPacketValue"] // k
            detected = False
            for s in coalition:
                s.total += gain
                if rng.random() < detect:
                    detected = True
                    stats["slashed"] += 1
                    s.total += give_back - slash  # slashed, re-stakes to keep playing
            stats["attacks_detected"] += int(detected)
        for pl in players:
            pl.history.append(pl.total)
    return players, stats


# ----------------------------------------------------------------------------- output
def by_strategy(players: list[Player]) -> dict[tuple[str, str], list[Player]]:
    out: dict[tuple[str, str], list[Player]] = {}
    for pl in players:
        out.setdefault((pl.role, pl.strategy), []).append(pl)
    return out


def table(name: str, cfg: Config, players: list[Player], stats: dict) -> str:
    lines = [f"== preset {name}: {cfg.rounds} rounds x {cfg.packets} packets, attack rate {cfg.attack_rate}, seed {cfg.seed}"]
    v = violations(cfg.params)
    lines.append("   SetParams: " + ("accepted (C1-C5 hold)" if not v else "PARAMETERS_UNSAFE: " + "; ".join(v)))
    lines.append(
        f"   delivered {stats['delivered']}, timed out {stats['timed_out']}, "
        f"fraud attempts {stats['attacks']} (detected {stats['attacks_detected']}, nodes slashed {stats['slashed']})"
    )
    lines.append(f"   {'role':<8} {'strategy':<11} {'players':>7} {'mean total':>14} {'per round':>11} {'min':>14} {'max':>14}")
    groups = by_strategy(players)
    best_signer = max((sum(x.total for x in g) / len(g), s) for (r, s), g in groups.items() if r == "signer")
    best_relayer = max((sum(x.total for x in g) / len(g), s) for (r, s), g in groups.items() if r == "relayer")
    for (role, strat), g in sorted(groups.items(), key=lambda kv: (["signer", "relayer", "sender"].index(kv[0][0]), kv[0][1])):
        totals = [x.total for x in g]
        mean = sum(totals) / len(totals)
        mark = ""
        if (role == "signer" and strat == best_signer[1]) or (role == "relayer" and strat == best_relayer[1]):
            mark = "  <- pays best"
        lines.append(
            f"   {role:<8} {strat:<11} {len(g):>7} {mean:>14,.0f} {mean / cfg.rounds:>11,.1f} {min(totals):>14,} {max(totals):>14,}{mark}"
        )
    return "\n".join(lines)


COLORS = {"honest": "#1b7837", "abstain": "#999999", "equivocate": "#b2182b", "relay": "#2166ac", "withhold": "#e08214", "send": "#762a83"}


def plot(results: list[tuple[str, Config, list[Player]]], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    panels = (
        ("participation: sign or abstain", "signer", ("honest", "abstain")),
        ("deterrence: sign honestly or forge", "signer", ("honest", "equivocate")),
        ("relaying: deliver or withhold", "relayer", ("relay", "withhold")),
    )
    credits = FuncFormatter(lambda y, _: f"{y / 1e6:,.1f}M" if abs(y) >= 1e6 else f"{y / 1e3:,.0f}k" if abs(y) >= 1e3 else f"{y:,.0f}")
    rows = len(results)
    fig = plt.figure(figsize=(17, 5.0 * rows), layout="constrained")
    subfigs = fig.subfigures(rows, 1, squeeze=False)[:, 0] if rows > 1 else [fig.subfigures(1, 1)]
    for row, (name, cfg, players) in enumerate(results):
        sub = subfigs[row]
        axes = sub.subplots(1, 3)
        groups = by_strategy(players)
        v = violations(cfg.params)
        verdict = "SetParams accepts (C1-C5 hold)" if not v else "SetParams refuses: " + ", ".join(x.split(" ")[0] for x in v)
        p = cfg.params
        ptext = (
            f"f={p['minFee']}  s={p['signerShareBps'] / 100:.0f}%  c_s={p['signingCost']}  c_r={p['relayCost']}  "
            f"S={p['minStake']:,}  sigma={p['slashBps'] / 100:.0f}%  r={p['reporterShareBps'] / 100:.0f}%  "
            f"p={p['detectionBps'] / 100:.0f}%  V={p['maxPacketValue']:,}  k={p['minSignersPerProof']}"
        )
        for col, (title, role, strategies) in enumerate(panels):
            ax = axes[col]
            for strat in strategies:
                g = groups.get((role, strat))
                if not g:
                    continue
                mean = [sum(pl.history[t] for pl in g) / len(g) for t in range(cfg.rounds)]
                deviating = strat in ("abstain", "withhold", "equivocate")
                ax.plot(
                    range(1, cfg.rounds + 1),
                    mean,
                    label=f"{strat} ({len(g)} players)",
                    color=COLORS.get(strat),
                    linewidth=2.2,
                    linestyle="--" if deviating else "-",
                    zorder=3,
                )
            ax.axhline(0, color="#555555", linewidth=0.5, zorder=1)
            ax.yaxis.set_major_formatter(credits)
            ax.set_title(f"{name}: {title}", fontsize=11)
            ax.set_xlabel("round")
            if col == 0:
                ax.set_ylabel("cumulative payoff per player (credits)")
            ax.grid(True, alpha=0.3)
            ax.legend(loc="best", fontsize=9)
        sub.suptitle(f"{name.upper()} - {verdict}\n{ptext}", fontsize=11, fontweight="bold", color="#1b7837" if not v else "#b2182b")
    fig.suptitle("medbridge incentive game: cumulative payoff per strategy (mean per player)", fontsize=13)
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ----------------------------------------------------------------------------- CLI
OVERRIDES = {
    "fee": "minFee",
    "signer_share_bps": "signerShareBps",
    "max_signers": "maxSignersPerProof",
    "k": "minSignersPerProof",
    "signing_cost": "signingCost",
    "relay_cost": "relayCost",
    "report_cost": "reportCost",
    "stake": "minStake",
    "slash_bps": "slashBps",
    "reporter_share_bps": "reporterShareBps",
    "detection_bps": "detectionBps",
    "value": "maxPacketValue",
}


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description="Simulate the medbridge incentive game and plot cumulative payoff per strategy.")
    ap.add_argument("--preset", choices=["safe", "unsafe", "both"], default="both")
    ap.add_argument("--rounds", type=int, default=1000)
    ap.add_argument("--packets", type=int, default=20, help="packets per round")
    ap.add_argument("--attack-rate", type=float, default=0.05, help="probability per round that forgers attempt a false packet")
    ap.add_argument("--benefit", type=int, default=400, help="a sending org's value B of one delivered packet")
    ap.add_argument("--honest", type=int, default=6)
    ap.add_argument("--abstain", type=int, default=3)
    ap.add_argument("--equivocate", type=int, default=3)
    ap.add_argument("--relay", type=int, default=2)
    ap.add_argument("--withhold", type=int, default=2)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", default=os.path.join(HERE, "out"))
    for flag, key in OVERRIDES.items():
        ap.add_argument("--" + flag.replace("_", "-"), type=int, default=None, help=f"override {key}")
    args = ap.parse_args(argv)
    if args.rounds < 1 or args.packets < 0:
        ap.error("--rounds must be >= 1 and --packets >= 0")

    with open(os.path.join(HERE, "presets.json"), encoding="utf-8") as fh:
        presets = json.load(fh)
    names = ["safe", "unsafe"] if args.preset == "both" else [args.preset]
    os.makedirs(args.out, exist_ok=True)
    results = []
    for name in names:
        params = dict(presets[name]["params"])
        overridden = False
        for flag, key in OVERRIDES.items():
            value = getattr(args, flag)
            if value is not None:
                params[key] = value
                overridden = True
        cfg = Config(
            params=params,
            rounds=args.rounds,
            packets=args.packets,
            attack_rate=args.attack_rate,
            benefit=args.benefit,
            signers={"honest": args.honest, "abstain": args.abstain, "equivocate": args.equivocate},
            relayers={"relay": args.relay, "withhold": args.withhold},
            seed=args.seed,
        )
        players, stats = simulate(cfg)
        label = f"{name}+overrides" if overridden else name
        print(table(label, cfg, players, stats))
        print()
        path = os.path.join(args.out, f"payoffs-{name}.png")
        plot([(label, cfg, players)], path)
        print(f"   plot: {os.path.relpath(path)}\n")
        results.append((label, cfg, players))
    if len(results) > 1:
        path = os.path.join(args.out, "payoffs.png")
        plot(results, path)
        print(f"combined plot: {os.path.relpath(path)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
