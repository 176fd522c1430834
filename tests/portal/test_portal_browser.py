"""The customer's story in a real browser: Debian's headless Chromium driven by Selenium.

One browser session: the link from the demo world's e-mail (real SMTP), a dispute of one
invoice, a promise for another, an instalment plan accepted for the third; then the next
`mahnwerk run` and `mahnwerk show` name each as the engine's event recorded by `portal`.
Every page is photographed in German and English at phone and desktop width into
`tests/artifacts/portal/` (ignored by git) — look at them when the pages change.

Accessibility: axe-core (the npm package, which `.ci/run` installs into
/opt/mahnwerk-axe or $MAHNWERK_AXE_DIR) is injected into each page of the same browser
and must find no violation of WCAG 2.0/2.1 A and AA.  Without the package that test skips
and says so.  One browser for the module: starting Chromium costs seconds.
"""

from __future__ import annotations

import base64
import os
import shutil
from pathlib import Path

import pytest
from portal_book import World

from mahnwerk.engine.comms import formatting, girocode

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "portal"
SIZES = {"phone": (390, 844, True), "desktop": (1280, 900, False)}
AXE = (
    Path(os.environ.get("MAHNWERK_AXE_DIR", "/opt/mahnwerk-axe"))
    / "node_modules" / "axe-core" / "axe.min.js"
)  # fmt: skip
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PAGES = ("", "/pay", "/dispute?invoice=R-1", "/promise?invoice=R-2", "/plan?invoice=R-3",
         "/feedback", "/contact")  # fmt: skip

pytestmark = pytest.mark.skipif(
    CHROMIUM is None or DRIVER is None,
    reason="no Chromium: install Debian's chromium and chromium-driver (.ci/run does)",
)


@pytest.fixture(scope="module")
def browser():
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is in the dev extra")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--lang=de-DE", "--window-size=1280,900"):  # fmt: skip
        options.add_argument(arg)
    service = webdriver.ChromeService(executable_path=DRIVER)
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(60)
    driver.implicitly_wait(20)  # find_element waits for the next page after a click
    yield driver
    driver.quit()


def size(driver, name: str) -> None:
    width, height, mobile = SIZES[name]
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile},
    )


def shot(driver, name: str) -> Path:
    """The whole page (beyond the viewport) as PNG."""
    data = driver.execute_cdp_cmd(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}
    )["data"]
    path = ARTIFACTS / f"{name}.png"
    path.write_bytes(base64.b64decode(data))
    return path


def submit(driver, button) -> str:
    """Press a form's button and wait for the answer page; its <main> text.

    The form's page is marked before the press and the wait is for a complete document
    without the mark.  Not Selenium's `staleness_of`: asked about the old page's element
    while Chromium swaps documents, chromedriver may answer "Node with given id does not
    belong to the document" instead of "stale" (a CI run failed so), and this wait treats
    any such answer as "not yet"."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.execute_script("document.documentElement.dataset.submitted = 'yes'")
    button.click()
    WebDriverWait(driver, 60, ignored_exceptions=(WebDriverException,)).until(
        lambda d: d.execute_script(
            "return document.readyState === 'complete' && "
            "document.documentElement.dataset.submitted === undefined && "
            "document.querySelector('main') !== null"
        )
    )
    return driver.find_element(By.TAG_NAME, "main").text


def tabbed(driver, presses: int) -> list[str]:
    """The accessible text of each element the Tab key focuses, in order."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    out = []
    for _ in range(presses):
        ActionChains(driver).send_keys(Keys.TAB).perform()
        el = driver.switch_to.active_element
        text = " ".join((el.get_attribute("textContent") or "").split())
        out.append(text or el.get_attribute("value") or el.get_attribute("id") or "")
    return out


def labelled(driver) -> list[str]:
    """Form controls a screen reader could not name (no <label for>, no aria-label)."""
    from selenium.webdriver.common.by import By

    out = []
    for el in driver.find_elements(By.CSS_SELECTOR, "input, textarea, select"):
        if el.get_attribute("type") == "hidden":
            continue
        ident = el.get_attribute("id")
        if not ident or not driver.find_elements(By.CSS_SELECTOR, f"label[for='{ident}']"):
            out.append(el.get_attribute("outerHTML"))
    return out


def violations(driver) -> list[str]:
    """What axe-core finds against WCAG 2.1 A/AA on the page now shown: rule, impact, the
    elements (empty: none).  Injected through WebDriver, which the page's CSP (no scripts
    at all) does not govern."""
    if not driver.execute_script("return typeof window.axe === 'object'"):
        driver.execute_script(AXE.read_text(encoding="utf-8"))
    found = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}})"
        ".then(r => done(r.violations.map(v => v.id + ' (' + v.impact + '): ' + "
        "v.nodes.map(n => n.target.join(' ')).join(', '))))"
        ".catch(e => done(['axe failed: ' + e]));",
        WCAG,
    )
    return list(found)


def test_every_portal_page_passes_axe_core_in_both_languages(world: World, browser) -> None:
    """WCAG 2.1 AA as axe-core judges it, on every page the customer can reach: the
    overview, pay, each form (empty and refused), a confirmation and a refusal page, in
    German and English at phone width (the narrow layout; the wide one shares the CSS)."""
    from selenium.webdriver.common.by import By

    if not AXE.is_file():
        pytest.skip(f"axe-core not installed at {AXE} (.ci/run installs it with npm)")
    link = world.link_from_mail("john@example.com")  # K-2: the story below is K-1's
    browser.set_script_timeout(60)
    size(browser, "phone")
    found = {}
    pages = ("", "/pay", "/dispute?invoice=R-9", "/promise?invoice=R-9", "/plan?invoice=R-9",
             "/feedback", "/contact")  # fmt: skip
    for lang in ("de", "en"):
        for page in pages:
            sep = "&" if "?" in page else "?"
            browser.get(f"{link}{page}{sep}lang={lang}")
            found[f"{page or '/'} {lang}"] = violations(browser)
    # a form refused (a day out of range) and a confirmation
    browser.get(f"{link}/promise?invoice=R-9&lang=en")
    day = browser.find_element(By.ID, "until")
    browser.execute_script("arguments[0].removeAttribute('max'); arguments[0].value = "
                           "'2027-01-01'", day)  # fmt: skip
    submit(browser, browser.find_element(By.CSS_SELECTOR, "form button[type=submit]"))
    assert browser.find_elements(By.ID, "error")
    found["promise refused"] = violations(browser)
    browser.get(f"{link}/feedback?lang=de")
    browser.find_element(By.ID, "f-forgot").click()
    said = submit(browser, browser.find_element(By.CSS_SELECTOR, "form button[type=submit]"))
    assert "Danke" in said
    found["done"] = violations(browser)
    browser.get(world.url + "/p/nothing.xxxxxxxxxxxxxxxxxxxxxx")  # a refusal: message page
    found["refused link"] = violations(browser)
    assert {page: v for page, v in found.items() if v} == {}


def test_a_customer_disputes_promises_and_agrees_instalments_in_a_browser(
    world: World, browser
) -> None:
    from selenium.webdriver.common.by import By

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    link = world.link_from_mail("erika@example.de")  # the e-mail the run's dispatch sent
    pictures = []
    for lang in ("de", "en"):
        for width in SIZES:
            size(browser, width)
            for page in PAGES:
                sep = "&" if "?" in page else "?"
                browser.get(f"{link}{page}{sep}lang={lang}")
                assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == lang
                assert labelled(browser) == [], page
                # nothing wider than the screen: usable on a phone without sideways scrolling
                wide = browser.execute_script(
                    "return document.documentElement.scrollWidth > window.innerWidth"
                )
                assert not wide, (page, width)
                name = page.strip("/").split("?")[0] or "overview"
                pictures.append(shot(browser, f"{name}-{lang}-{width}"))
                if page == "/pay":  # the code on the screen, read as a banking app reads it
                    [code] = girocode.read_png(pictures[-1].read_bytes())
                    assert code.text == "Kd K-1 R-1 R-2 R-3" and code.iban.startswith("DE")
                    money = formatting.money(code.amount, lang).replace("\xa0", " ")
                    assert money in browser.find_element(By.TAG_NAME, "main").text

    size(browser, "phone")
    browser.get(link)
    assert "Erika Mustermann" in browser.page_source and "John Smith" not in browser.page_source
    # the keyboard alone: Tab reaches the skip link first, then every action on the page
    reached = tabbed(browser, 60)
    assert reached[0] == "Zum Inhalt springen"
    for action in ("Widersprechen R-1", "Zahlung zusagen R-2", "Raten vereinbaren R-3",
                   "Rechnungen auswählen und bezahlen", "Sagen Sie uns, warum"):  # fmt: skip
        assert action in reached, reached
    # dispute R-1, by keyboard: the reason is a radio button, the text a textarea
    browser.find_element(By.CSS_SELECTOR, "a[href*='/dispute'][href*='invoice=R-1']").click()
    browser.find_element(By.ID, "r-not_received").click()
    browser.find_element(By.ID, "text").send_keys("Die Lieferung vom 19.12. kam nie an.")
    said = submit(browser, browser.find_element(By.CSS_SELECTOR, "form button[type=submit]"))
    assert "Ihr Widerspruch zu Rechnung R-1 ist eingegangen" in said, said
    assert "Bestätigung per E-Mail" in browser.page_source
    pictures.append(shot(browser, "done-dispute-de-phone"))
    # promise R-2 for 20 February
    browser.get(link)
    browser.find_element(By.CSS_SELECTOR, "a[href*='/promise'][href*='invoice=R-2']").click()
    day = browser.find_element(By.ID, "until")
    browser.execute_script("arguments[0].value = '2026-02-20'", day)
    said = submit(browser, browser.find_element(By.CSS_SELECTOR, "form button[type=submit]"))
    assert "Rechnung R-2 bis zum 20.02.2026 zu zahlen" in said, said
    # instalments for R-3: the policy offered up to 6; the customer takes the 3-rate schedule
    size(browser, "desktop")
    browser.get(link + "?lang=en")
    browser.find_element(By.CSS_SELECTOR, "a[href*='/plan'][href*='invoice=R-3']").click()
    assert "We offer up to 6 monthly instalments" in browser.page_source
    said = submit(browser, browser.find_element(By.ID, "accept-3"))
    assert "The instalment plan for invoice R-3 is agreed" in said, said
    pictures.append(shot(browser, "done-plan-en-desktop"))
    # the page now says what it knows
    browser.get(link)
    assert browser.page_source.count("liegt uns vor") == 3
    pictures.append(shot(browser, "overview-after-de-phone"))
    assert all(p.stat().st_size > 5000 for p in pictures)

    world.cli("run", "--as-of", "2026-02-10", "--db", world.db)
    for invoice, kind in (("R-1", "dispute_opened"), ("R-2", "promise_made"),
                          ("R-3", "plan_agreed")):  # fmt: skip
        shown = world.cli("show", invoice, "--db", world.db).output
        assert f"received_{kind}" in shown and f"{kind} recorded by portal" in shown, shown
    assert (
        "not_received: Die Lieferung vom 19.12. kam nie an."
        in world.cli("show", "R-1", "--db", world.db).output
    )
    assert "paused" in world.cli("show", "R-2", "--db", world.db).output
