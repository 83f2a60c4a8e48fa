"""Every benchmark runs end to end at a tiny size and prints well-formed results.

These tests prove the scripts work; they never judge a figure (no timed assertion).
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
RESULT = re.compile(
    r"^RESULT (?P<name>[\w.]+) baseline=(?P<baseline>\S+) guichet=(?P<guichet>\S+) "
    r"(?P<unit>\S+) ratio=(?P<ratio>\S+)",
    re.MULTILINE,
)


def run_bench(pg_url: str, module: str, *args: str) -> dict[str, dict[str, float]]:
    """Run ``python -m bench.<module> args`` and return its RESULT lines by name."""
    return run_bench_output(pg_url, module, *args)[0]


def run_bench_output(
    pg_url: str, module: str, *args: str
) -> tuple[dict[str, dict[str, float]], str]:
    """Run ``python -m bench.<module> args``: its RESULT lines by name, and its whole output."""
    env = {**os.environ, "GUICHET_BENCH_PG_URL": pg_url}
    completed = subprocess.run(
        [sys.executable, "-m", f"bench.{module}", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert completed.stdout.startswith("== "), completed.stdout[:500]
    assert "machine: " in completed.stdout
    results = {
        m["name"]: {k: float(m[k]) for k in ("baseline", "guichet", "ratio")}
        for m in RESULT.finditer(completed.stdout)
    }
    for name, values in results.items():
        assert all(math.isfinite(v) and v > 0 for v in values.values()), (name, values)
    return results, completed.stdout


def test_appends_benchmark_reports_every_writer_and_batch_configuration(pg_url: str) -> None:
    """1 and 8 writers, batches of 1 and 5, each against plain asyncpg."""
    results = run_bench(pg_url, "appends", "--events", "80")
    for writers in (1, 8):
        for batch in (1, 5):
            assert f"appends.writers{writers}.batch{batch}.vs_asyncpg" in results


def test_replay_benchmark_reports_rebuild_and_verify_against_a_plain_select(pg_url: str) -> None:
    """A few applications' events are rebuilt and verified, the whole chain and from a
    checkpoint at 90 % of the log (the script checks the counts)."""
    results, output = run_bench_output(pg_url, "replay", "--scale", "0.003")
    assert {
        "replay.rebuild_states",
        "replay.verify_chain",
        "replay.rebuild_then_verify",
        "replay.verify_from_checkpoint",
    } <= set(results)
    # 30 applications of 20 events: the last 60 re-read after position 540.
    assert re.search(
        r"^RESULT replay\.verify_from_checkpoint .* events/s ratio=\S+  \(the 60 events after "
        r"a checkpoint at position 540 \(90 %\) re-read in [\d.]+ s, against a plain read of "
        r"those rows; the whole chain took [\d.]+ s\)$",
        output,
        re.MULTILINE,
    ), output


@pytest.mark.temporal
def test_lifecycle_benchmark_closes_files_on_both_logs_and_the_bare_workflow(pg_url: str) -> None:
    """Two full lifecycles per run close on PostgreSQL and SQLite; latency and rate reported,
    against the bare workflow and against the bare workflow shaped like Guichet's history."""
    results, output = run_bench_output(pg_url, "lifecycle", "--files", "2")
    assert "lifecycle.shaped_bare.throughput" in results
    for log in ("postgresql", "sqlite"):
        assert f"lifecycle.{log}.throughput" in results
        assert f"lifecycle.{log}.throughput_vs_shaped" in results
        assert f"lifecycle.{log}.update_p50" in results
    from bench.scenario import STEPS

    table = output.split("update latency per action, ms", 1)[1]
    for step in STEPS:  # each caseworker action's p50 and p99, bare beside Guichet
        assert re.search(rf"^  {step.name} +(\d+ +){{3}}\d+$", table, re.MULTILINE), step.name
    shapes = {
        run: (int(upserts), int(markers), float(size))
        for run, size, upserts, markers in re.findall(
            r"^(.+?): \d+ lifecycles in .*?history events \(([\d.]+) KB\), (\d+) upserts, "
            r"(\d+) markers",
            output,
            re.MULTILINE,
        )
    }
    for turn in (1, 2):  # two rounds by default, the second in reverse order
        plain = shapes[f"bare (round {turn})"]
        shaped = shapes[f"shaped bare (round {turn})"]
        guichet = shapes[f"guichet, log on PostgreSQL (round {turn})"]
        assert plain[:2] == (0, 0)
        assert guichet[0] > guichet[1] > 0, guichet  # its own upserts beside the patches'
        assert shaped[:2] == guichet[:2], output
        assert abs(shaped[2] - guichet[2]) < 0.15 * guichet[2], output  # payloads padded alike


@pytest.mark.temporal
def test_lifecycle_benchmark_runs_every_contender_outside_the_sandbox_when_asked(
    pg_url: str,
) -> None:
    """``--no-sandbox``: bare and Guichet workflows, run by workers without the SDK's sandbox,
    still close their files, and the figures are reported as usual."""
    results, output = run_bench_output(
        pg_url, "lifecycle", "--files", "1", "--latency-files", "1", "--rounds", "1",
        "--no-sandbox",
    )  # fmt: skip
    assert "--no-sandbox True" in output.splitlines()[2], output[:500]
    assert {"lifecycle.postgresql.throughput", "lifecycle.sqlite.throughput"} <= set(results)


@pytest.mark.temporal
def test_open_files_benchmark_reports_memory_and_the_time_skipped_years(pg_url: str) -> None:
    """Two open files on the dev server; over six time-skipped years, one awarded file and one
    submitted file get every reminder once, in the log and in the outbox (exit code 0)."""
    results, output = run_bench_output(
        pg_url, "open_files", "--files", "2", "--cache", "1", "--skip-files", "2"
    )
    assert {
        "open_files.worker_peak_rss",
        "open_files.six_years_time_skipped",
        "open_files.six_years_reminders_once",
    } <= set(results)
    # 1 awarded file: 3 reminders; 1 submitted file: 5 deadlines × 3 reminders.
    assert results["open_files.six_years_reminders_once"]["baseline"] == 18
    assert results["open_files.six_years_reminders_once"]["ratio"] == 1
    assert re.search(r"^reminder check \(2 files: 1 awarded .*\): OK$", output, re.MULTILINE)
    for what, expected in (
        ("reminder events in the log", 18),
        ("outbox notices of those reminders", 36),
        ("expiry events in the log", 6),
    ):
        line = f"  {what}: 2/2 files exactly as expected; {expected} expected, 0 missing, "
        assert line + "0 duplicated" in output, output


@pytest.mark.temporal
def test_cofinancer_queue_benchmark_lists_every_file_to_both_readers(pg_url: str) -> None:
    """Three files: the caseworker's page and the region's each list all three (the script
    stops otherwise), and the region's time is reported against the caseworker's."""
    results = run_bench(pg_url, "cofinancer_queue", "--files", "3", "--rounds", "1")
    assert set(results) == {"cofinancer_queue.page", "cofinancer_queue.lines_page"}


@pytest.mark.temporal
def test_digests_benchmark_runs_both_digests_over_every_file_and_splits_the_cofinancers(
    pg_url: str,
) -> None:
    """Three files in instruction: the activity finds every awaited line (the script stops
    otherwise); the run, the log reads and the states are each reported against a baseline,
    and the co-financers' digest is split into its four parts."""
    results, output = run_bench_output(pg_url, "digests", "--files", "3", "--rounds", "1")
    assert set(results) == {"digests.daily_run", "digests.log_reads", "digests.cofinancer_states"}
    assert "3 files in instruction, 6 lines awaited" in output
    split = re.search(r"co-financers' digest by parts: (.*)$", output, re.MULTILINE)
    assert split is not None, output
    for part in ("listing", "log reads", "states", "notices"):
        assert re.search(rf"{part} [\d.]+ s \(\d+%\)", split[1]), (part, split[1])


@pytest.mark.parametrize(
    "module", ["appends", "cofinancer_queue", "digests", "lifecycle", "open_files", "replay"]
)
def test_every_benchmark_help_says_what_it_measures_and_the_command_of_its_figures(
    module: str,
) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", f"bench.{module}", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert f".venv/bin/python -m bench.{module} --" in completed.stdout
