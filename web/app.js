/* The catalog page: loads /api/playlists, renders playlists with their video cards, and shows
   what the mesh is doing (which version served the page, how long the call took, how many
   videos were left out). No framework and no network access beyond this origin. */
(function () {
    'use strict';

    // Absolute on purpose: behind the Kubernetes entry /api/playlists goes straight to
    // playlists-api while the page lives under /home.
    var API_URL = '/api/playlists';
    // Relative to the <base href> that index.html computes, so it works under /home too.
    var CONFIG_URL = 'config.json';
    var PLACEHOLDER_URL = 'placeholder.svg';
    var REQUEST_TIMEOUT_MS = 10000;
    var HISTORY_LENGTH = 20;

    var el = {
        body: document.body,
        banner: q('banner'),
        version: q('version'),
        latency: q('latency'),
        omitted: q('omitted'),
        updated: q('updated'),
        history: q('history'),
        autoReload: q('auto-reload'),
        interval: q('reload-interval'),
        announcer: q('announcer'),
        loading: q('state-loading'),
        error: q('state-error'),
        errorReason: q('error-reason'),
        retry: q('retry'),
        empty: q('state-empty'),
        partial: q('partial'),
        catalog: q('catalog'),
        heading: document.getElementById('catalog-heading'),
        template: document.getElementById('video-template')
    };

    var request_seq = 0;      // only the newest answer is rendered
    var in_flight = false;
    var reload_timer = null;
    var history = [];
    var last_announcement = '';
    var focus_catalog_next = false;

    function q(id) {
        return document.querySelector('[data-testid="' + id + '"]');
    }

    function show(node, visible) {
        node.hidden = !visible;
    }

    function announce(text) {
        // Repeating the same text every few seconds (auto-reload) would be noise for a screen reader.
        if (text === last_announcement) return;
        last_announcement = text;
        el.announcer.textContent = text;
    }

    function plural(n, word) {
        return n + ' ' + word + (n === 1 ? '' : 's');
    }

    function safe_http_url(value) {
        if (typeof value !== 'string' || value === '') return null;
        try {
            var url = new URL(value, document.baseURI);
            return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : null;
        } catch (e) {
            return null;
        }
    }

    function header_count(headers, name) {
        var raw = headers.get(name);
        if (raw === null || !/^\s*\d+\s*$/.test(raw)) return null;
        return parseInt(raw, 10);
    }

    /* ---------- version ---------- */

    function apply_version(version) {
        var clean = String(version).toLowerCase().replace(/[^a-z0-9_-]/g, '');
        el.version.textContent = clean || 'unknown';
        el.body.setAttribute('data-version', clean);
        el.body.className = el.body.className.replace(/\bversion-\S+/g, '').trim();
        if (clean) el.body.classList.add('version-' + clean);
        var title = clean && clean !== 'v1' ? 'Video Catalog: ' + clean.toUpperCase() : 'Video Catalog';
        el.banner.textContent = title;
        document.title = title;
    }

    function load_config() {
        fetch(CONFIG_URL, { cache: 'no-store', headers: { Accept: 'application/json' } })
            .then(function (response) {
                if (!response.ok) throw new Error('HTTP ' + response.status);
                return response.json();
            })
            .then(function (config) {
                apply_version(config && config.version ? config.version : '');
            })
            .catch(function () {
                el.version.textContent = 'unknown';
            });
    }

    /* ---------- rendering ---------- */

    function render_video(video) {
        var node = el.template.content.firstElementChild.cloneNode(true);
        var title = typeof video.title === 'string' && video.title ? video.title : video.id || 'Untitled';
        node.setAttribute('data-video-id', String(video.id || ''));

        var img = node.querySelector('img');
        var image_url = safe_http_url(video.imageurl);
        img.addEventListener('error', function on_error() {
            // The thumbnail host is unreachable (offline, blocked): show the local placeholder.
            img.removeEventListener('error', on_error);
            img.classList.add('is-placeholder');
            img.src = PLACEHOLDER_URL;
        });
        if (image_url) {
            img.src = image_url;
        } else {
            img.classList.add('is-placeholder');
            img.src = PLACEHOLDER_URL;
        }

        node.querySelector('.card-title').textContent = title;
        var description = node.querySelector('.card-description');
        if (typeof video.description === 'string' && video.description.trim()) {
            description.textContent = video.description;
        } else {
            description.remove();
        }

        var watch = node.querySelector('.watch');
        var url = safe_http_url(video.url);
        if (url) {
            watch.href = url;
            watch.querySelector('.visually-hidden').textContent = ' ' + title + ' (opens in a new tab)';
        } else {
            watch.remove();
        }
        return node;
    }

    function render_playlist(playlist, index) {
        var section = document.createElement('section');
        section.className = 'playlist';
        section.setAttribute('data-testid', 'playlist');
        section.setAttribute('data-playlist-id', String(playlist.id || ''));
        var heading_id = 'playlist-' + index;
        section.setAttribute('aria-labelledby', heading_id);

        var videos = Array.isArray(playlist.videos) ? playlist.videos : [];
        var heading = document.createElement('h3');
        heading.id = heading_id;
        heading.className = 'playlist-title';
        heading.textContent = typeof playlist.name === 'string' ? playlist.name : 'Playlist ' + (index + 1);
        var count = document.createElement('span');
        count.className = 'playlist-count';
        count.textContent = plural(videos.length, 'video');
        heading.appendChild(document.createTextNode(' '));
        heading.appendChild(count);
        section.appendChild(heading);

        if (videos.length === 0) {
            var none = document.createElement('p');
            none.className = 'playlist-empty';
            none.textContent = 'No videos in this playlist right now.';
            section.appendChild(none);
            return section;
        }
        var list = document.createElement('ul');
        list.className = 'cards';
        videos.forEach(function (video) {
            if (video && typeof video === 'object') list.appendChild(render_video(video));
        });
        section.appendChild(list);
        return section;
    }

    function set_state(name) {
        show(el.loading, name === 'loading');
        show(el.error, name === 'error');
        show(el.empty, name === 'empty');
        show(el.catalog, name === 'catalog');
        if (name !== 'catalog') show(el.partial, false);
        el.body.setAttribute('data-state', name);
    }

    function render_catalog(playlists, omitted, total_header) {
        var loaded = 0;
        playlists.forEach(function (p) {
            if (p && Array.isArray(p.videos)) loaded += p.videos.length;
        });

        if (playlists.length === 0) {
            el.catalog.replaceChildren();
            set_state('empty');
            announce('The catalog is empty.');
            return 'ok';
        }

        var fragment = document.createDocumentFragment();
        playlists.forEach(function (p, i) {
            if (p && typeof p === 'object') fragment.appendChild(render_playlist(p, i));
        });
        el.catalog.replaceChildren(fragment);
        set_state('catalog');

        var left_out = omitted || 0;
        var total = loaded + left_out;
        el.catalog.setAttribute('data-loaded', String(loaded));
        el.catalog.setAttribute('data-total', String(total_header !== null ? total_header : total));
        if (left_out > 0) {
            el.partial.textContent = 'Partial catalog: ' + loaded + ' of ' + total + ' videos loaded (' +
                plural(left_out, 'video') + ' left out by playlists-api).';
            show(el.partial, true);
            announce('Partial catalog: ' + loaded + ' of ' + total + ' videos loaded.');
            return 'partial';
        }
        show(el.partial, false);
        announce('Catalog loaded: ' + plural(playlists.length, 'playlist') + ', ' + plural(loaded, 'video') + '.');
        return 'ok';
    }

    function render_error(reason) {
        el.errorReason.textContent = reason;
        set_state('error');
        announce('The catalog could not be loaded: ' + reason);
    }

    function record(outcome, detail) {
        history.push({ outcome: outcome, detail: detail, at: new Date() });
        if (history.length > HISTORY_LENGTH) history.shift();
        var fragment = document.createDocumentFragment();
        var counts = { ok: 0, partial: 0, error: 0 };
        history.forEach(function (h) {
            counts[h.outcome] += 1;
            var li = document.createElement('li');
            li.className = 'history-' + h.outcome;
            li.title = h.at.toLocaleTimeString() + ': ' + h.detail;
            fragment.appendChild(li);
        });
        el.history.replaceChildren(fragment);
        el.history.setAttribute('aria-label', 'Last ' + plural(history.length, 'load') + ': ' +
            counts.ok + ' complete, ' + counts.partial + ' partial, ' + counts.error + ' failed');
    }

    /* ---------- loading ---------- */

    function reason_for_status(response, body_text) {
        var reason = 'HTTP ' + response.status + (response.statusText ? ' ' + response.statusText : '');
        try {
            var body = JSON.parse(body_text);
            if (body && typeof body.error === 'string' && body.error) reason += ': ' + body.error;
        } catch (e) { /* not a JSON error body */ }
        return reason;
    }

    function load(options) {
        if (in_flight && options.background) return; // auto-reload never piles up requests
        var seq = ++request_seq;
        in_flight = true;
        var first = !el.body.hasAttribute('data-state') || el.body.getAttribute('data-state') === 'loading';
        if (first) set_state('loading');
        el.body.setAttribute('aria-busy', 'true');
        el.retry.disabled = true;
        el.retry.textContent = options.retry ? 'Retrying…' : 'Retry';

        var controller = typeof AbortController === 'function' ? new AbortController() : null;
        var timer = controller ? setTimeout(function () { controller.abort(); }, REQUEST_TIMEOUT_MS) : null;
        var started = performance.now();
        var response_ref = null;

        fetch(API_URL, {
            cache: 'no-store',
            headers: { Accept: 'application/json' },
            signal: controller ? controller.signal : undefined
        })
            .then(function (response) {
                response_ref = response;
                return response.text();
            })
            .then(function (text) {
                var elapsed = Math.round(performance.now() - started);
                if (seq !== request_seq) return;
                el.latency.textContent = elapsed + ' ms';
                var response = response_ref;
                if (!response.ok) {
                    throw { reason: reason_for_status(response, text) };
                }
                var data;
                try {
                    data = JSON.parse(text);
                } catch (e) {
                    throw { reason: 'the answer was not valid JSON' };
                }
                if (!Array.isArray(data)) throw { reason: 'the answer was not a list of playlists' };
                var omitted = header_count(response.headers, 'X-Videos-Omitted');
                var total = header_count(response.headers, 'X-Videos-Total');
                el.omitted.textContent = omitted === null ? 'not reported' : String(omitted);
                var outcome = render_catalog(data, omitted, total);
                record(outcome, outcome === 'partial' ? plural(omitted, 'video') + ' left out' : 'complete');
            })
            .catch(function (err) {
                if (seq !== request_seq) return;
                var reason;
                if (err && typeof err.reason === 'string') {
                    reason = err.reason;
                } else if (err && err.name === 'AbortError') {
                    reason = 'no answer within ' + REQUEST_TIMEOUT_MS / 1000 + ' s';
                    el.latency.textContent = 'timed out';
                } else {
                    reason = 'network error (' + (err && err.message ? err.message : String(err)) + ')';
                    el.latency.textContent = 'failed';
                }
                el.omitted.textContent = '–';
                render_error(reason);
                record('error', reason);
            })
            .then(function () {
                if (timer) clearTimeout(timer);
                if (seq !== request_seq) return;
                in_flight = false;
                el.updated.textContent = new Date().toLocaleTimeString();
                el.body.removeAttribute('aria-busy');
                el.retry.disabled = false;
                el.retry.textContent = 'Retry';
                if (focus_catalog_next && el.body.getAttribute('data-state') !== 'error') {
                    // The Retry button disappears with the error: keep keyboard focus somewhere useful.
                    el.heading.focus();
                }
                focus_catalog_next = false;
            });
    }

    /* ---------- auto-reload ---------- */

    function schedule() {
        if (reload_timer !== null) {
            clearInterval(reload_timer);
            reload_timer = null;
        }
        if (!el.autoReload.checked) return;
        var seconds = parseInt(el.interval.value, 10) || 5;
        reload_timer = setInterval(function () { load({ background: true }); }, seconds * 1000);
    }

    function init_auto_reload() {
        // ?reload=N starts the page with auto-reload on (handy for a presenter's bookmark).
        var match = /[?&]reload=(\d+)/.exec(location.search);
        if (match) {
            var wanted = match[1];
            var exists = Array.prototype.some.call(el.interval.options, function (o) { return o.value === wanted; });
            if (!exists) {
                var option = document.createElement('option');
                option.value = wanted;
                option.textContent = wanted;
                el.interval.appendChild(option);
            }
            el.interval.value = wanted;
            el.autoReload.checked = true;
        }
        el.autoReload.addEventListener('change', schedule);
        el.interval.addEventListener('change', schedule);
        schedule();
    }

    // With a <base href> a '#id' link resolves against the base, not the page: at /home it would
    // navigate to /home/#id. Move the focus here instead.
    Array.prototype.forEach.call(document.querySelectorAll('a[href^="#"]'), function (link) {
        link.addEventListener('click', function (event) {
            var target = document.getElementById(link.getAttribute('href').slice(1));
            if (!target) return;
            event.preventDefault();
            target.focus();
            target.scrollIntoView();
        });
    });

    el.retry.addEventListener('click', function () {
        focus_catalog_next = true;
        load({ retry: true });
    });

    load_config();
    init_auto_reload();
    load({});
})();
