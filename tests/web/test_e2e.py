"""The explorer in a real browser: Playwright drives Debian's Chromium (headless) against ``cytonet serve``.

The browser is the system's (``chromium`` on PATH, or ``CYTONET_CHROMIUM``); nothing is downloaded.
Screenshots of every page go to ``results/e2e/`` as test artefacts.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "results" / "e2e"


def chromium() -> str | None:
    """Path of a Chromium binary: ``$CYTONET_CHROMIUM``, else the first of the usual names on PATH."""
    given = os.environ.get("CYTONET_CHROMIUM")
    if given:
        return given if Path(given).is_file() else None
    return next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)


BROWSER = chromium()
pytestmark = pytest.mark.skipif(BROWSER is None, reason="no Chromium binary found (apt-get install chromium, or set CYTONET_CHROMIUM)")


@pytest.fixture(scope="module")
def page(live: Any) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=BROWSER, headless=True, args=["--no-sandbox"])
        pg = browser.new_page(viewport={"width": 1400, "height": 900})
        errors: list[str] = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.goto(f"{live.url}/")
        pg.wait_for_selector("body[data-ready]")
        yield pg
        browser.close()
    assert not errors, errors


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_search_il6_and_open_its_card(page: Any) -> None:
    page.click("nav a[data-tab=kb]")
    page.fill("#search", "IL-6")
    first = page.locator("#hits li button").first
    first.wait_for()
    assert first.get_attribute("data-id") == "IL6"
    first.click()
    page.wait_for_selector("#card h2[data-entity=IL6]")
    assert page.inner_text("#card h2") == "IL-6"
    assert page.locator("#card ol.refs a[href^='https://']").count() >= 1
    assert page.locator("#card a.entity[data-id='IL6R/IL6ST']").count() == 1
    shot(page, "1-knowledge-il6")


def test_follow_a_link_in_the_network(page: Any) -> None:
    page.click("nav a[data-tab=network]")
    page.wait_for_function("window.cytonet.cy && window.cytonet.cy.nodes().length > 100")
    x, y = page.evaluate("""() => {  // zoom onto IL-6, then click it where it is drawn
        const cy = window.cytonet.cy, n = cy.getElementById('cytokine:IL6');
        cy.zoom(3); cy.center(n);
        const p = n.renderedPosition(), box = document.getElementById('cy').getBoundingClientRect();
        return [box.left + p.x, box.top + p.y]; }""")
    page.mouse.click(x, y)
    page.wait_for_selector("#net-card h2[data-entity=IL6]")
    page.click("#net-card a.entity[data-id=siltuximab]")
    page.wait_for_selector("#net-card h2[data-entity=siltuximab]")
    assert page.evaluate("window.cytonet.cy.$(':selected').map(n => n.data('rid'))") == ["siltuximab"]
    shot(page, "2-network-siltuximab")


def test_lps_endotoxemia_plot_tnf_peaks_before_il6(page: Any) -> None:
    page.click("nav a[data-tab=scenario]")
    page.select_option("#sim-scenario", "lps-endotoxemia")
    page.click("#sim-run")
    page.wait_for_selector("#sim-result .verdict", timeout=180_000)
    assert page.locator("#sim-result .plot[data-title='Serum cytokines'] canvas").count() == 1
    peaks = page.evaluate("""() => { const r = window.cytonet.run, at = (s) => {
        const v = r.series[s].values; return r.time[v.indexOf(Math.max(...v))]; };
        return {TNF: at('TNF'), IL6: at('IL6'), scenario: r.scenario}; }""")
    assert peaks["scenario"] == "lps-endotoxemia"
    assert peaks["TNF"] < peaks["IL6"], peaks
    cytokines = page.locator("#sim-result .plot[data-title='Serum cytokines']")
    assert cytokines.get_attribute("data-unit") == "pg/mL"
    assert "TNF" in cytokines.inner_text() and "IL6" in cytokines.inner_text()
    shot(page, "3-scenario-lps")


def test_car_t_with_tocilizumab_overlay(page: Any) -> None:
    page.click("nav a[data-tab=therapy]")
    page.select_option("#treat-scenario", "car-t-crs")
    page.select_option("#treat-drug", "tocilizumab")
    page.fill("#treat-at", "12")
    page.click("#treat-run")
    page.wait_for_selector("#treat-result table.changes", timeout=180_000)
    il6 = page.locator("#treat-result .plot[data-title='IL6']")
    assert "untreated" in il6.inner_text() and "+ tocilizumab" in il6.inner_text()
    grades = page.evaluate("[window.cytonet.treatment.untreated.summary.max_crs_grade, window.cytonet.treatment.treated.summary.max_crs_grade]")
    assert grades[1] < grades[0]
    assert page.locator("#treat-result .plot[data-title^='tocilizumab concentration'] canvas").count() == 1
    shot(page, "4-therapy-car-t-tocilizumab")


def test_population_of_50_shows_its_storm_rate(page: Any) -> None:
    page.click("nav a[data-tab=population]")
    page.select_option("#pop-scenario", "car-t-crs")
    page.fill("#pop-n", "50")
    page.click("#pop-run")
    page.wait_for_selector("#pop-result table.arms", timeout=600_000)
    job = page.evaluate("window.cytonet.job")
    assert job["status"] == "done" and job["progress"] == 1.0
    arm = job["result"]["arms"][0]
    assert arm["n"] == 50
    shown = page.inner_text("#pop-result tr[data-arm=untreated] td.rate")
    assert shown == f"{100 * arm['storm_rate']['estimate']:.1f} %"
    shot(page, "5-population-50")
