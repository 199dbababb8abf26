'use strict';
/* Debian's headless Chromium through playwright-core (never a browser download), with every
   request of the page routed through a guard: loopback requests go through, thumbnail requests
   (i.ytimg.com) are aborted so the placeholder shows, anything else is aborted and recorded as
   a violation that the tests assert is empty. */

const fs = require('node:fs');
const path = require('node:path');
const { chromium } = require('playwright-core');
const { BUILD_DIR, make_temp_dir, remove_temp_dir } = require('./stack');

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SCREENSHOT_DIR = path.join(BUILD_DIR, 'screenshots');
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);
const THUMBNAIL_HOST = 'i.ytimg.com';

function is_loopback(hostname) {
    return LOOPBACK_HOSTS.has(hostname) || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

/** A started Chromium with a fresh profile in a temp dir; close() removes the dir. */
async function launch() {
    const home = make_temp_dir('browser-chromium-');
    const profile = path.join(home, 'profile');
    const context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        // Debian's chromium keeps its crash database under $XDG_CONFIG_HOME: keep it in the temp dir.
        env: { ...process.env, XDG_CONFIG_HOME: path.join(home, 'config'), XDG_CACHE_HOME: path.join(home, 'cache') },
        headless: true,
        args: [
            '--no-sandbox',
            '--disable-gpu',
            '--disable-quic',
            '--no-first-run',
            '--disable-background-networking',
            '--disable-component-update',
            '--disable-sync',
        ],
        viewport: { width: 1280, height: 900 },
        serviceWorkers: 'block',
    });
    const guard = { violations: [], thumbnails: [], page_errors: [] };
    await context.route('**/*', (route) => {
        const url = new URL(route.request().url());
        if (url.protocol === 'data:' || url.protocol === 'blob:') return route.continue();
        if (is_loopback(url.hostname)) return route.continue();
        if (url.hostname === THUMBNAIL_HOST) {
            guard.thumbnails.push(url.href);
            return route.abort('internetdisconnected');
        }
        guard.violations.push(url.href);
        return route.abort('blockedbyclient');
    });
    return {
        context,
        guard,
        async new_page() {
            const page = await context.newPage();
            page.on('pageerror', (err) => guard.page_errors.push(err.message));
            return page;
        },
        async close() {
            await context.close();
            remove_temp_dir(home);
        },
    };
}

/** Saves a full-page screenshot as BUILD_DIR/screenshots/<name>.png. */
async function screenshot(page, name) {
    fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
    const file = path.join(SCREENSHOT_DIR, `${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    return file;
}

/** Waits until the page has left the loading state and config.json has set the version. */
async function settled(page, timeout = 15000) {
    await page.waitForFunction(() => {
        const state = document.body.getAttribute('data-state');
        const version = document.querySelector('[data-testid="version"]').textContent;
        return state && state !== 'loading' && !document.body.hasAttribute('aria-busy') && version !== '…';
    }, null, { timeout });
}

/** What the page shows, in one object, for assertions with readable failure messages. */
async function summary(page) {
    return page.evaluate(() => {
        const text = (id) => {
            const node = document.querySelector(`[data-testid="${id}"]`);
            return node && !node.hidden ? node.textContent.trim() : null;
        };
        return {
            state: document.body.getAttribute('data-state'),
            banner: text('banner'),
            version: text('version'),
            latency: text('latency'),
            omitted: text('omitted'),
            partial: text('partial'),
            error: text('error-reason'),
            playlists: [...document.querySelectorAll('[data-testid="playlist"]')].map((p) => ({
                name: p.querySelector('.playlist-title').firstChild.textContent.trim(),
                videos: p.querySelectorAll('[data-testid="video"]').length,
            })),
            videos: document.querySelectorAll('[data-testid="video"]').length,
        };
    });
}

/** Waits until every thumbnail shows the local placeholder (the real ones are aborted). */
async function placeholders_shown(page, timeout = 10000) {
    await page.waitForFunction(() => {
        const images = [...document.querySelectorAll('[data-testid="video"] img')];
        return images.length > 0 && images.every((img) =>
            img.classList.contains('is-placeholder') && /placeholder\.svg$/.test(img.src) &&
            img.complete && img.naturalWidth > 0);
    }, null, { timeout });
}

/**
 * Registers the hooks every browser test file needs: after the file, close the browser and stop
 * the stack's processes (each step on its own: a failure in one must not keep processes
 * running); after each test, fail on requests that left loopback or errors the page threw.
 */
function register_cleanup_and_guards(get_browser, stack) {
    const { after, afterEach } = require('node:test');
    const assert = require('node:assert/strict');
    after(async () => {
        try {
            const browser = get_browser();
            if (browser) await browser.close();
        } finally {
            await stack.stop_all();
        }
    });
    afterEach(() => {
        const browser = get_browser();
        if (!browser) return;
        const { violations, page_errors } = browser.guard;
        browser.guard.violations = [];
        browser.guard.page_errors = [];
        assert.deepEqual(violations, [], 'the page made requests that leave loopback');
        assert.deepEqual(page_errors, [], 'the page threw errors');
    });
}

module.exports = {
    launch, screenshot, settled, summary, placeholders_shown, register_cleanup_and_guards, SCREENSHOT_DIR,
};
