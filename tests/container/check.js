'use strict';
/* The container test's checks of the running stack through its published ports (WEB_PORT,
   PLAYLISTS_API_PORT, VIDEOS_API_PORT, PROMETHEUS_PORT and a seeded video's id KNOWN_VIDEO
   from the environment); run.sh drives
   podman and calls one check at a time:

     node check.js CHECK [ARG]

   An assertion prints "ok ..." lines, or "FAIL: <what is wrong>" and exits 1. A condition
   (for run.sh's wait_until) prints nothing and exits 0 once it holds, 1 until then. */

const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');

const REPO = path.resolve(__dirname, '..', '..');
const KNOWN_VIDEO = process.env.KNOWN_VIDEO;
const port = (name) => process.env[name];
const url = (variable, target) => `http://127.0.0.1:${port(variable)}${target}`;
const where = (variable, target) => `:${port(variable)}${target}`;

class Failure extends Error {}
function ensure(condition, message) {
    if (!condition) throw new Failure(message);
}
const log = (line) => console.log(`[container-test] ${line}`);

/** GET -> { status, headers, body } (status 0 when there is no answer within 5 s). */
async function get(target) {
    try {
        const response = await fetch(target, { signal: AbortSignal.timeout(5000) });
        return { status: response.status, headers: response.headers, body: await response.text() };
    } catch {
        return { status: 0, headers: new Headers(), body: '' };
    }
}

function json(answer) {
    try {
        return JSON.parse(answer.body);
    } catch {
        return undefined;
    }
}

const count_videos = (playlists) => playlists.reduce((n, p) => n + p.videos.length, 0);

/** A catalog (playlists-api / or videos-web /api/playlists): 4 playlists, 9 complete videos. */
function full_catalog(answer) {
    const playlists = json(answer);
    ensure(Array.isArray(playlists), 'not a JSON array');
    ensure(playlists.length === 4, `${playlists.length} playlists, expected 4`);
    const videos = playlists.flatMap((p) => p.videos);
    ensure(videos.length === 9, `${videos.length} videos, expected 9`);
    for (const v of videos) {
        for (const key of ['id', 'title', 'description', 'imageurl', 'url']) ensure(key in v, `video ${v.id} has no ${key}`);
        ensure(v.title, `video ${v.id} has an empty title`);
    }
    return `${playlists.length} playlists, ${videos.length} videos: ${playlists.map((p) => p.name).join(', ')}`;
}

function holds(check) {
    try {
        check();
        return true;
    } catch (e) {
        if (e instanceof Failure) return false;
        throw e;
    }
}

async function video_answer() {
    const answer = await get(url('VIDEOS_API_PORT', `/${KNOWN_VIDEO}`));
    const video = json(answer);
    return { answer, ok: answer.status === 200 && video?.id === KNOWN_VIDEO && Boolean(video.title) };
}

async function prometheus_sum_of_ok_calls() {
    const query = encodeURIComponent('sum(http_client_requests_total{outcome="ok"})');
    const answer = await get(url('PROMETHEUS_PORT', `/api/v1/query?query=${query}`));
    if (answer.status !== 200) return null;
    const result = json(answer)?.data?.result ?? [];
    return result.length ? Number(result[0].value[1]) : 0;
}

/** Conditions: true once they hold. */
const conditions = {
    // The stack answers on all three ports, and the catalog is whole.
    async answering() {
        const page = await get(url('WEB_PORT', '/'));
        const { ok } = await video_answer();
        const catalog = await get(url('PLAYLISTS_API_PORT', '/'));
        return page.status === 200 && ok && catalog.status === 200 && catalog.headers.get('x-videos-omitted') === '0';
    },
    async 'known-video'() {
        return (await video_answer()).ok;
    },
    async 'full-catalog'() {
        const answer = await get(url('WEB_PORT', '/api/playlists'));
        return answer.status === 200 && holds(() => full_catalog(answer));
    },
    // FLAKY stack: videos-api answers (200 or its injected 500), the page and playlists-api 200.
    async 'flaky-answering'() {
        const video = await get(url('VIDEOS_API_PORT', `/${KNOWN_VIDEO}`));
        return [200, 500].includes(video.status) && (await get(url('WEB_PORT', '/'))).status === 200 &&
            (await get(url('PLAYLISTS_API_PORT', '/'))).status === 200;
    },
    async 'prometheus-up'() {
        const answer = await get(url('PROMETHEUS_PORT', '/api/v1/targets'));
        const targets = answer.status === 200 ? json(answer)?.data?.activeTargets ?? [] : [];
        const up = targets.filter((t) => t.health === 'up').map((t) => t.labels.instance).sort();
        return JSON.stringify(up) === JSON.stringify(['playlists-api:9090', 'videos-api:9090', 'videos-web:9090']);
    },
    // At least one catalog's nine calls to videos-api, as Prometheus scraped them from playlists-api.
    async 'prometheus-has-calls'() {
        return (await prometheus_sum_of_ok_calls()) >= 9;
    },
};

/** Assertions: print what they saw, throw a Failure on the first thing wrong. */
const assertions = {
    // A host port the stack publishes must be free (on every address, as podman binds it).
    async 'port-free'(variable) {
        const error = await new Promise((resolve) => {
            const server = net.createServer();
            server.once('error', resolve);
            server.listen(Number(port(variable)), '0.0.0.0', () => server.close(() => resolve(null)));
        });
        if (error) console.log(`    ${error.message}`);
        ensure(!error, `host port ${port(variable)} (${variable}) is in use: the stack publishes it. Free it, or choose another, ` +
            `e.g. ${variable}=${Number(port(variable)) + 8000} bash tests/container/run.sh`);
    },

    // The healthcheck test compose declares for a service, one element per line (CMD, then the argv).
    async healthcheck(service) {
        // The yaml package of the manifest tests (npm ci in tests/manifests, as scripts/test.sh does).
        const YAML = require(path.join(REPO, 'tests', 'manifests', 'node_modules', 'yaml'));
        const compose = YAML.parse(fs.readFileSync(path.join(REPO, 'docker-compose.yaml'), 'utf8'));
        const test = compose.services[service].healthcheck.test;
        console.log((Array.isArray(test) ? test : ['CMD-SHELL', test]).join('\n'));
    },

    // The page, the catalog through every hop, one video and an unknown one.
    async catalogs() {
        let answer = await get(url('WEB_PORT', '/'));
        ensure(answer.status === 200, `GET ${where('WEB_PORT', '/')} answered ${answer.status}`);
        const type = answer.headers.get('content-type') ?? '';
        ensure(type.startsWith('text/html'), `GET ${where('WEB_PORT', '/')} is '${type}', not HTML`);
        ensure(/<html/i.test(answer.body), `GET ${where('WEB_PORT', '/')} holds no <html>`);
        log(`ok  ${where('WEB_PORT', '/')} (videos-web) serves the page (${Buffer.byteLength(answer.body)} bytes of HTML, ` +
            `X-Version ${answer.headers.get('x-version')})`);

        answer = await get(url('WEB_PORT', '/api/playlists'));
        ensure(answer.status === 200, `GET ${where('WEB_PORT', '/api/playlists')} answered ${answer.status}`);
        log(`ok  ${where('WEB_PORT', '/api/playlists')} (videos-web -> playlists-api -> videos-api): ${full_catalog(answer)}`);

        answer = await get(url('PLAYLISTS_API_PORT', '/'));
        ensure(answer.status === 200, `GET ${where('PLAYLISTS_API_PORT', '/')} answered ${answer.status}`);
        const total = answer.headers.get('x-videos-total');
        const omitted = answer.headers.get('x-videos-omitted');
        ensure(total === '9' && omitted === '0', `playlists-api headers: X-Videos-Total '${total}', X-Videos-Omitted '${omitted}'`);
        log(`ok  ${where('PLAYLISTS_API_PORT', '/')} (playlists-api): ${full_catalog(answer)}, X-Videos-Total 9, X-Videos-Omitted 0`);

        const video = await video_answer();
        ensure(video.answer.status === 200, `GET ${where('VIDEOS_API_PORT', `/${KNOWN_VIDEO}`)} answered ${video.answer.status}`);
        ensure(video.ok, `videos-api's answer for ${KNOWN_VIDEO}: ${video.answer.body}`);
        const unknown = await get(url('VIDEOS_API_PORT', '/NoSuchVideo'));
        ensure(unknown.status === 404, `GET ${where('VIDEOS_API_PORT', '/NoSuchVideo')} answered ${unknown.status}, expected 404`);
        log(`ok  ${where('VIDEOS_API_PORT', `/${KNOWN_VIDEO}`)} (videos-api) returns the video; an unknown id is 404`);
    },

    // FLAKY=true FLAKY_RATE=0.5: videos-api fails some calls with 500; playlists-api answers
    // partially and says so; videos-web passes that on.
    async flaky() {
        const counts = { 200: 0, 500: 0, other: 0 };
        for (let i = 0; i < 40; i++) {
            const { status } = await get(url('VIDEOS_API_PORT', `/${KNOWN_VIDEO}`));
            counts[status in counts ? status : 'other'] += 1;
        }
        log(`    videos-api, 40 calls: ${counts[200]} x 200, ${counts[500]} x 500, ${counts.other} other`);
        ensure(counts[500] > 0, 'videos-api gave no 500 with FLAKY=true');
        ensure(counts[200] > 0, 'videos-api gave no 200 with FLAKY_RATE=0.5');
        ensure(counts.other === 0, 'videos-api gave answers other than 200 and 500');
        log(`ok  ${where('VIDEOS_API_PORT', '/')} (videos-api) fails some calls with 500`);

        let partial = 0;
        for (let i = 0; i < 10; i++) {
            const answer = await get(url('PLAYLISTS_API_PORT', '/'));
            ensure(answer.status === 200, `playlists-api answered ${answer.status} with FLAKY videos-api (expected partial 200s)`);
            const omitted = Number(answer.headers.get('x-videos-omitted'));
            const total = answer.headers.get('x-videos-total');
            const shown = count_videos(json(answer));
            ensure(total === '9', `X-Videos-Total is '${total}', expected 9`);
            ensure(shown + omitted === 9, `${shown} videos shown + ${answer.headers.get('x-videos-omitted')} omitted != 9`);
            if (omitted !== 0) partial += 1;
        }
        log(`    playlists-api, 10 calls: ${partial} partial (X-Videos-Omitted > 0, videos shown + omitted = 9)`);
        ensure(partial > 0, 'playlists-api gave no partial answer with FLAKY videos-api');
        const web = await get(url('WEB_PORT', '/api/playlists'));
        ensure(web.status === 200, `videos-web /api/playlists answered ${web.status} with FLAKY videos-api`);
        log(`ok  ${where('PLAYLISTS_API_PORT', '/')} (playlists-api) answers partially; videos-web passes it on ` +
            `(X-Videos-Omitted ${web.headers.get('x-videos-omitted')})`);
    },

    async 'overlay-catalog'() {
        ensure((await get(url('WEB_PORT', '/api/playlists'))).status === 200, 'no catalog with the metrics overlay');
    },

    async 'prometheus-calls'() {
        const sum = await prometheus_sum_of_ok_calls();
        ensure(sum >= 9, `Prometheus: sum(http_client_requests_total{outcome="ok"}) = ${sum}, expected 9 or more`);
        log(`ok  Prometheus: sum(http_client_requests_total{outcome="ok"}) = ${sum} after one catalog`);
    },
};

async function main([name, arg]) {
    if (conditions[name]) process.exit((await conditions[name]()) ? 0 : 1);
    if (!assertions[name]) {
        console.error(`usage: node check.js ${[...Object.keys(conditions), ...Object.keys(assertions)].join('|')} [ARG]`);
        process.exit(2);
    }
    try {
        await assertions[name](arg);
    } catch (e) {
        if (!(e instanceof Failure)) throw e;
        console.error(`[container-test] FAIL: ${e.message}`);
        process.exit(1);
    }
}

main(process.argv.slice(2));
