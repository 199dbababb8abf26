'use strict';
/* FLAKY videos-api: the page marks partial catalogs ("7 of 9 videos loaded"), and the
   auto-reload switch keeps fetching the data without reloading the page. */

const { test, before } = require('node:test');
const assert = require('node:assert/strict');
const { Stack } = require('./stack');
const { launch, screenshot, settled, summary, placeholders_shown, register_cleanup_and_guards } = require('./browser');

const TOTAL_VIDEOS = 9;
const MAX_TRIES = 20; // at FLAKY_RATE=0.5 a load is complete with p = 1/512

const stack = new Stack('flaky');
let demo;
let browser;

before(async () => {
    demo = await stack.start_demo({ videos_api: { FLAKY: 'true', FLAKY_RATE: '0.5' } });
    browser = await launch();
});

register_cleanup_and_guards(() => browser, stack);

test('a partial catalog is clearly marked with how many videos were loaded', async () => {
    const page = await browser.new_page();
    const seen = [];
    let shown;
    for (let tries = 1; tries <= MAX_TRIES; tries++) {
        await page.goto(`${demo.web.url}/`);
        await settled(page);
        shown = await summary(page);
        seen.push(`${shown.state}: ${shown.partial || shown.error || `${shown.videos} videos`}`);
        if (shown.state === 'catalog' && shown.partial !== null) break;
    }
    assert.ok(shown.partial !== null, `no partial catalog in ${MAX_TRIES} loads: ${seen.join('; ')}`);

    const match = /(\d+) of (\d+) videos loaded/.exec(shown.partial);
    assert.ok(match, `partial marking: ${shown.partial}`);
    const loaded = Number(match[1]);
    assert.equal(Number(match[2]), TOTAL_VIDEOS, 'total = loaded + left out');
    assert.ok(loaded < TOTAL_VIDEOS);
    assert.equal(shown.videos, loaded, 'one card per loaded video');
    assert.equal(shown.omitted, String(TOTAL_VIDEOS - loaded), 'the status strip shows the videos left out');
    assert.equal(shown.playlists.length, 4, 'every playlist is still shown');
    assert.equal(await page.getAttribute('[data-testid="catalog"]', 'data-total'), String(TOTAL_VIDEOS),
        'X-Videos-Total reached the page');
    if (loaded > 0) await placeholders_shown(page);
    await screenshot(page, 'partial');
    await page.close();
});

test('auto-reload fetches the data again without reloading the page', async () => {
    const page = await browser.new_page();
    await page.goto(`${demo.web.url}/`);
    await settled(page);
    await page.evaluate(() => {
        window.same_document = true;
    });
    const navigations = [];
    page.on('framenavigated', (frame) => navigations.push(frame.url()));
    const api_calls = [];
    page.on('request', (r) => {
        if (new URL(r.url()).pathname === '/api/playlists') api_calls.push(r.url());
    });

    await page.selectOption('[data-testid="reload-interval"]', '1');
    await page.check('[data-testid="auto-reload"]');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="history"] li').length >= 4,
        null, { timeout: 15000 });
    await page.uncheck('[data-testid="auto-reload"]');

    assert.ok(api_calls.length >= 3, `auto-reload called /api/playlists ${api_calls.length} times`);
    assert.deepEqual(navigations, [], 'the page itself was not reloaded');
    assert.equal(await page.evaluate(() => window.same_document), true);
    const label = await page.getAttribute('[data-testid="history"]', 'aria-label');
    assert.match(label, /^Last \d+ loads: \d+ complete, \d+ partial, \d+ failed$/);
    await page.close();
});
