'use strict';
/* The catalog page in headless Chromium against the real services: the catalog, keyboard use,
   the /home prefix behind nginx, the v2 page, the empty catalog, and the error state with Retry. */

const { test, before } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const { Stack } = require('./stack');
const { launch, screenshot, settled, summary, placeholders_shown, register_cleanup_and_guards } = require('./browser');

const PLAYLISTS = [
    { name: 'CI/CD', videos: 3 },
    { name: 'K8s in the Cloud', videos: 2 },
    { name: 'Storage and MessageBrokers', videos: 2 },
    { name: 'K8s Autoscaling', videos: 2 },
];

const stack = new Stack('catalog');
let demo;
let web_v2;
let proxy;
let browser;

before(async () => {
    demo = await stack.start_demo();
    web_v2 = (await stack.start_demo({ videos_web: { VERSION: 'v2' } })).web;
    proxy = await stack.start_proxy({ web_port: demo.web.port, playlists_port: demo.playlists.port });
    browser = await launch();
});

register_cleanup_and_guards(() => browser, stack);

function assert_full_catalog(shown, where) {
    assert.equal(shown.state, 'catalog', `${where}: state (error: ${shown.error})`);
    assert.deepEqual(shown.playlists, PLAYLISTS, `${where}: playlists and their videos`);
    assert.equal(shown.videos, 9, `${where}: video cards`);
    assert.equal(shown.partial, null, `${where}: no partial marking`);
}

test('the catalog shows 4 playlists and 9 videos, placeholders for thumbnails, and the status strip', async () => {
    const page = await browser.new_page();
    const thumbnails_before = browser.guard.thumbnails.length;
    const bad = [];
    page.on('response', (r) => {
        if (r.status() >= 400) bad.push(`${r.status()} ${r.url()}`);
    });
    const response = await page.goto(`${demo.web.url}/`);
    assert.equal(response.status(), 200);
    await settled(page);
    const shown = await summary(page);
    assert_full_catalog(shown, '/');
    assert.equal(shown.banner, 'Video Catalog');
    assert.equal(shown.version, 'v1');
    assert.match(shown.latency, /^\d+ ms$/);
    assert.equal(shown.omitted, '0');

    // Cards: title and a Watch link to the video's url.
    const first = page.locator('[data-testid="video"]').first();
    assert.equal(await first.locator('[data-testid="video-title"]').textContent(), 'Flux CD');
    assert.equal(await first.locator('[data-testid="watch"]').getAttribute('href'), 'https://youtu.be/OFgziggbCOg');
    const watch_links = await page.locator('[data-testid="watch"]').evaluateAll((links) => links.map((a) => a.href));
    assert.equal(watch_links.length, 9);
    for (const href of watch_links) assert.match(href, /^https:\/\/youtu\.be\/[\w-]+$/);

    // The thumbnails were asked for (and aborted here): every card shows the local placeholder.
    await placeholders_shown(page);
    assert.ok(browser.guard.thumbnails.length - thumbnails_before >= 9, 'each card asked for its thumbnail');

    assert.deepEqual(bad, [], 'no request failed');
    await screenshot(page, 'catalog');
    await page.close();
});

test('the page is usable with the keyboard', async () => {
    const page = await browser.new_page();
    await page.goto(`${demo.web.url}/`);
    await settled(page);
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.className), 'skip-link');
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'catalog-heading');
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => ({
        testid: document.activeElement.getAttribute('data-testid'),
        name: document.activeElement.textContent.trim(),
        outline: getComputedStyle(document.activeElement).outlineStyle,
    }));
    assert.equal(focused.testid, 'watch');
    assert.match(focused.name, /^Watch Flux CD/);
    assert.notEqual(focused.outline, 'none', 'a focused link shows a focus outline');
    // The auto-reload switch is a real checkbox: Space toggles it.
    await page.focus('[data-testid="auto-reload"]');
    await page.keyboard.press('Space');
    assert.equal(await page.isChecked('[data-testid="auto-reload"]'), true);
    await page.close();
});

test('the page fits a phone screen', async () => {
    const page = await browser.new_page();
    await page.setViewportSize({ width: 360, height: 740 });
    await page.goto(`${demo.web.url}/`);
    await settled(page);
    assert_full_catalog(await summary(page), 'phone');
    const layout = await page.evaluate(() => ({
        overflow: document.documentElement.scrollWidth - window.innerWidth,
        columns: new Set([...document.querySelectorAll('[data-testid="video"]')]
            .map((card) => Math.round(card.getBoundingClientRect().left))).size,
    }));
    assert.ok(layout.overflow <= 0, `no horizontal scrolling (${layout.overflow} px too wide)`);
    assert.equal(layout.columns, 1, 'one card per row');
    await screenshot(page, 'phone');
    await page.close();
});

for (const where of ['/home', '/home/', '/home/index.html']) {
    test(`the page works at ${where} behind a prefix-stripping proxy`, async () => {
        const page = await browser.new_page();
        const bad = [];
        const off_proxy = [];
        page.on('response', (r) => {
            if (r.status() >= 400) bad.push(`${r.status()} ${r.url()}`);
        });
        page.on('request', (r) => {
            const url = new URL(r.url());
            if (url.hostname === '127.0.0.1' && url.port !== String(proxy.port)) off_proxy.push(r.url());
        });
        const response = await page.goto(`${proxy.url}${where}`);
        assert.equal(response.status(), 200);
        await settled(page);
        const shown = await summary(page);
        assert_full_catalog(shown, where);
        assert.equal(shown.version, 'v1', 'config.json loaded relative to the page');
        // style.css and placeholder.svg loaded relative to the computed base.
        const banner_colour = await page.$eval('.banner', (b) => getComputedStyle(b).backgroundColor);
        assert.equal(banner_colour, 'rgb(29, 78, 216)');
        assert.equal(await page.evaluate(() => document.baseURI), `${proxy.url}/home/`);
        await placeholders_shown(page);
        // In-page links must not navigate away from /home (a '#id' link resolves against the base).
        await page.focus('.skip-link');
        await page.keyboard.press('Enter');
        assert.equal(await page.evaluate(() => document.activeElement.id), 'catalog-heading');
        assert.equal(page.url(), `${proxy.url}${where}`);
        assert.deepEqual(bad, [], 'no request failed');
        assert.deepEqual(off_proxy, [], 'every request went through the proxy');
        const log = fs.readFileSync(proxy.access_log, 'utf8');
        assert.match(log, /"GET \/api\/playlists HTTP/, 'the data came through the /api/playlists route');
        assert.match(log, /"GET \/home\/style\.css HTTP/);
        await page.close();
    });
}

test('VERSION=v2 serves a visibly different page with the same data', async () => {
    const v1 = await browser.new_page();
    const v2 = await browser.new_page();
    await v1.goto(`${demo.web.url}/`);
    const response = await v2.goto(`${web_v2.url}/`);
    assert.equal(response.headers()['x-version'], 'v2', 'the version is sent as a response header');
    await Promise.all([settled(v1), settled(v2)]);
    const [shown_v1, shown_v2] = [await summary(v1), await summary(v2)];
    assert_full_catalog(shown_v2, 'v2');
    assert.equal(shown_v1.banner, 'Video Catalog');
    assert.equal(shown_v2.banner, 'Video Catalog: V2');
    assert.equal(shown_v2.version, 'v2');
    assert.equal(await v2.title(), 'Video Catalog: V2');
    const accent = (page) => page.$eval('.banner', (b) => getComputedStyle(b).backgroundColor);
    const [accent_v1, accent_v2] = [await accent(v1), await accent(v2)];
    assert.notEqual(accent_v1, accent_v2, 'the accent colour differs');
    assert.equal(await v2.evaluate(() => document.body.classList.contains('version-v2')), true);
    await placeholders_shown(v2);
    await screenshot(v2, 'v2');
    await v1.close();
    await v2.close();
});

test('an empty catalog says so', async () => {
    const redis = ['-h', '127.0.0.1', '-p', String(demo.playlists_db.port)];
    const seeded = execFileSync('redis-cli', [...redis, '--raw', 'GET', 'playlists']).toString().trimEnd();
    execFileSync('redis-cli', [...redis, 'SET', 'playlists', '[]']);
    try {
        const page = await browser.new_page();
        await page.goto(`${demo.web.url}/`);
        await settled(page);
        const shown = await summary(page);
        assert.equal(shown.state, 'empty', `state (error: ${shown.error})`);
        assert.equal(await page.isVisible('[data-testid="state-empty"]'), true);
        assert.equal(shown.videos, 0);
        await page.close();
    } finally {
        execFileSync('redis-cli', [...redis, 'SET', 'playlists', seeded]);
    }
});

test('the error state shows the reason, and Retry brings the catalog back', async () => {
    // A videos-web whose playlists-api is another catalog's, which is stopped and started again.
    const upstream = await stack.start_demo();
    const front = await stack.start_demo({ videos_web: { PLAYLISTS_API_URL: upstream.playlists.url } });
    await upstream.stop();
    const page = await browser.new_page();
    await page.goto(`${front.web.url}/`);
    await settled(page);
    let shown = await summary(page);
    assert.equal(shown.state, 'error');
    assert.equal(await page.isVisible('[data-testid="state-error"]'), true);
    assert.match(shown.error, /^HTTP 5\d\d/, 'the reason names the HTTP status');
    assert.equal(shown.videos, 0);
    assert.equal(await page.getAttribute('[data-testid="announcer"]', 'aria-live'), 'polite');
    assert.match(await page.textContent('[data-testid="announcer"]'), /could not be loaded/);
    await screenshot(page, 'error');

    await upstream.start(); // same ports, same settings
    await page.focus('[data-testid="retry"]');
    await page.keyboard.press('Enter');
    await page.waitForSelector('body[data-state="catalog"]', { timeout: 10000 });
    await settled(page);
    shown = await summary(page);
    assert_full_catalog(shown, 'after Retry');
    assert.equal(await page.isVisible('[data-testid="state-error"]'), false);
    assert.equal(await page.evaluate(() => document.activeElement.id), 'catalog-heading',
        'focus moves to the catalog when the Retry button goes away');
    await page.close();
});
