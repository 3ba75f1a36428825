"""The API documentation works offline: Swagger UI from the installed package, not a CDN."""

from playwright.sync_api import expect


def test_docs_render_the_api_without_any_network(page, live_server, console):
    outside = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(live_server) else None)
    page.goto(live_server + "/docs")
    expect(page.locator(".swagger-ui .title").first).to_contain_text("linear-classify-demo")
    expect(page.locator(".opblock-summary-path", has_text="/api/sessions/{sid}/step")).to_be_visible()
    assert outside == [] and console == []
