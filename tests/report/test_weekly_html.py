"""The weekly report as HTML (``make report``) and by e-mail (``--email``).

On the scenario account (tests/scenario.py), loaded over HTTP and built: the file
is self-contained, opens in headless Chromium (Debian's ``chromium``, installed by
``make chromium``) with every chart drawn, its numbers are the KPI marts' for the
latest complete week, and the e-mail reaches a local SMTP server with its images.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image

from loader.connection import Database
from ops.cli import main as ops_main
from ops.report import format_minutes
from tests.receivers import SmtpReceiver
from tests.scenario import Scenario, built_scenario

MODELS = ("+weekly_summary", "+mailbox_weekly", "+arrival_curve", "+mailboxes", "kpi_settings",
          "+mailbox_backlog_daily")
CHARTS = ("received-closed", "first-response", "arrivals")
SUMMARY = ("conversations_total", "conversations_received", "conversations_closed",
           "conversations_open_at_period_end", "replies_sent", "first_response_minutes_median",
           "resolution_minutes_median")


@dataclass
class Published:
    scenario: Scenario
    path: Path
    stdout: str
    html: str
    has_backlog_mart: bool


def _environment(monkeypatch: pytest.MonkeyPatch, database: Database) -> None:
    monkeypatch.delenv("HELPSCOUT_DATABASE_URL", raising=False)
    for key, value in database.libpq_env().items():
        monkeypatch.setenv(key, value)


@pytest.fixture(scope="module")
def published(module_pg_database: Database, tmp_path_factory) -> Iterator[Published]:
    workdir = tmp_path_factory.mktemp("dbt-report")
    with pytest.MonkeyPatch.context() as monkeypatch:
        _environment(monkeypatch, module_pg_database)
        select = MODELS if _backlog_model_exists() else MODELS[:-1]
        with built_scenario(module_pg_database, workdir, select=select) as scenario:
            out_dir = tmp_path_factory.mktemp("reports")
            code = ops_main(["report", "--html-dir", str(out_dir)])
            assert code == 0
            (path,) = out_dir.glob("weekly-report-*.html")
            exists = scenario.query(
                "select to_regclass('helpscout.mailbox_backlog_daily') is not null")[0][0]
            yield Published(scenario, path, "", path.read_text(encoding="utf-8"), exists)


def _backlog_model_exists() -> bool:
    from ops.dbt import DBT_PROJECT_DIR

    return any(DBT_PROJECT_DIR.glob("models/**/mailbox_backlog_daily.sql"))


def _latest_complete_week(scenario: Scenario):
    columns = {r[0] for r in scenario.query(
        "select column_name from information_schema.columns"
        " where table_schema = 'helpscout' and table_name = 'weekly_summary'")}
    watermark = "(select max(window_end) from helpscout_raw.load_windows)"  # one gapless load
    complete = "is_complete" if "is_complete" in columns else f"period_end_at <= {watermark}"
    return scenario.query(
        f"select week_start from helpscout.weekly_summary where {complete}"
        " order by week_start desc limit 1")[0][0]


class _Cells(HTMLParser):
    """Text of every element with an id, and the rows of the mailbox table."""

    def __init__(self) -> None:
        super().__init__()
        self.by_id: dict[str, str] = {}
        self.rows: list[list[str]] = []
        self.images: list[dict[str, str]] = []
        self._open: list[str | None] = []
        self._in_mailboxes = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "img":
            self.images.append(attributes)
            return
        if attributes.get("id") == "mailboxes":
            self._in_mailboxes = True
        if tag == "tr" and self._in_mailboxes:
            self.rows.append([])
        if tag == "td" and self._in_mailboxes:
            self.rows[-1].append("")
        self._open.append(attributes.get("id"))
        if attributes.get("id"):
            self.by_id[attributes["id"]] = ""

    def handle_endtag(self, tag):
        if tag == "table":
            self._in_mailboxes = False
        if self._open and tag not in ("img", "meta"):
            self._open.pop()

    def handle_data(self, data):
        for element_id in filter(None, self._open):
            self.by_id[element_id] += data
        if self._in_mailboxes and self.rows and self.rows[-1] and self._open:
            self.rows[-1][-1] += data


def _parse(html: str) -> _Cells:
    cells = _Cells()
    cells.feed(html)
    return cells


def test_file_is_self_contained_and_says_what_it_counts(published: Published) -> None:
    week = _latest_complete_week(published.scenario)
    assert published.path.name == f"weekly-report-{week.isoformat()}.html"
    html = published.html
    assert "<script" not in html and "<link" not in html
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", html)
    cells = _parse(html)
    assert len(cells.images) == len(CHARTS) + published.has_backlog_mart
    assert all(image["src"].startswith("data:image/png;base64,") for image in cells.images)
    scope = " ".join(cells.by_id["scope"].split())
    assert f"Week {week.isoformat()} (Monday)" in scope
    assert cells.by_id["timezone"] == "UTC"
    assert "Spam and deleted conversations are always left out" in scope
    assert "Internal conversations (started by a user, and from somenergia-sandbox.coop)" \
           " are left out" in scope
    assert "closed by the automatic closer (the system_closer_emails var) are left out" in scope


def test_numbers_equal_the_kpi_marts_for_that_week(published: Published) -> None:
    scenario = published.scenario
    week = _latest_complete_week(scenario)
    (row,) = scenario.query(
        f"select {', '.join(SUMMARY)} from helpscout.weekly_summary where week_start = %s",
        (week,))
    cells = _parse(published.html)
    shown = {key: cells.by_id[f"summary-{key}"] for key in SUMMARY}
    for key, value in zip(SUMMARY, row, strict=True):
        if key.endswith("_minutes_median"):
            assert shown[key] == format_minutes(value)
        else:
            assert int(shown[key].split()[0].replace(",", "")) == value
    expected = scenario.query(
        "select coalesce(m.mailbox_name, w.mailbox_id::text), w.conversations_received,"
        " w.conversations_closed, w.replies_sent, w.conversations_open_at_period_end,"
        " w.first_response_minutes_median, w.resolution_minutes_median"
        " from helpscout.mailbox_weekly as w left join helpscout.mailboxes as m"
        " using (mailbox_id) where w.week_start = %s"
        " order by w.conversations_received desc, 1", (week,))
    table = [[cell.strip() for cell in r] for r in cells.rows if r]
    assert table == [[name, str(a), str(b), str(c), str(d), format_minutes(e), format_minutes(f)]
                     for name, a, b, c, d, e, f in expected]
    assert sum(int(r[1]) for r in table) == row[1] > 0


def test_backlog_chart_or_a_visible_note(published: Published) -> None:
    cells = _parse(published.html)
    if published.has_backlog_mart:
        assert "chart-backlog" in cells.by_id and "missing-backlog" not in cells.by_id
    else:
        assert "chart-backlog" not in cells.by_id
        assert "mailbox_backlog_daily" in cells.by_id["missing-backlog"]


CHECK = """
<pre id="check"></pre>
<script>
window.addEventListener("load", () => {
  const results = [...document.querySelectorAll("img.chart")].map((img) => {
    const canvas = document.createElement("canvas");
    canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
    const context = canvas.getContext("2d");
    context.drawImage(img, 0, 0);
    const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
    let inked = 0; const colours = new Set();
    for (let i = 0; i < pixels.length; i += 4) {
      if (pixels[i] < 235 || pixels[i + 1] < 235 || pixels[i + 2] < 235) inked++;
      colours.add((pixels[i] << 16) | (pixels[i + 1] << 8) | pixels[i + 2]);
    }
    const box = img.getBoundingClientRect();
    return {figure: img.closest("figure").id, complete: img.complete,
            width: img.naturalWidth, height: img.naturalHeight, shownWidth: box.width,
            inked: inked / (pixels.length / 4), colours: colours.size};
  });
  document.getElementById("check").textContent = JSON.stringify(results);
});
</script>
"""


def _chromium() -> str:
    path = shutil.which("chromium")
    assert path, "chromium is missing: `make chromium` installs it"
    return path


def test_opens_in_headless_chromium_with_every_chart_drawn(published: Published,
                                                           tmp_path: Path) -> None:
    # The report has no script of its own; a copy gets one that measures each chart.
    probe = tmp_path / "probe.html"
    probe.write_text(published.html.replace("</body>", CHECK + "</body>"), encoding="utf-8")
    done = subprocess.run(
        [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
         "--virtual-time-budget=15000", "--dump-dom", probe.as_uri()],
        capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    found = re.search(r'<pre id="check">(.*?)</pre>', done.stdout, re.S)
    assert found and found.group(1), done.stdout[-2000:]
    results = {r["figure"]: r for r in json.loads(found.group(1))}
    expected = {f"chart-{key}" for key in CHARTS}
    if published.has_backlog_mart:
        expected.add("chart-backlog")
    assert set(results) == expected
    for figure, result in results.items():
        assert result["complete"] and result["width"] > 400 and result["height"] > 200, figure
        assert result["shownWidth"] > 400, figure
        assert result["inked"] > 0.02 and result["colours"] > 20, (figure, result)


def _not_blank(png: bytes) -> bool:
    image = Image.open(io.BytesIO(png)).convert("RGB")
    colours = image.getcolors(maxcolors=1_000_000) or []
    return image.width > 400 and len(colours) > 20


def test_email_arrives_with_its_images(published: Published, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture) -> None:
    smtp = SmtpReceiver()
    try:
        _environment(monkeypatch, published.scenario.database)
        for key, value in smtp.environment("alerts-only@example.org").items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("HELPSCOUT_REPORT_EMAIL_TO", "team@example.org")
        code = ops_main(["report", "--email"])
        out, err = capsys.readouterr()
        assert (code, err) == (0, "")
        assert "e-mailed the report to 1 recipient(s)" in out
    finally:
        smtp.stop()
    assert smtp.recipients == [["team@example.org"]]
    (message,) = smtp.messages
    week = _latest_complete_week(published.scenario)
    assert message["Subject"].startswith(f"[Help Scout] Weekly report, {week.isoformat()}")
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()
    assert f"Week {week.isoformat()} (Mon)" in text
    html_part = message.get_body(("html",))
    page = html_part.get_content()
    referenced = set(re.findall(r'src="cid:([^"]+)"', page))
    images = {part["Content-ID"].strip().strip("<>"): part.get_content()
              for part in message.walk() if part.get_content_type() == "image/png"}
    assert len(referenced) == len(CHARTS) + published.has_backlog_mart
    assert referenced == set(images)
    assert all(_not_blank(png) for png in images.values())
    assert "data:image" not in page
