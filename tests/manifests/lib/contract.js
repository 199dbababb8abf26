'use strict';
/** What docs/contract.md says, read from the document itself so the two cannot drift apart. */
const m = require('./manifests');

function contract() {
    const text = m.readRepo('docs/contract.md');
    const lines = text.split('\n');
    const defaults = {};
    const settings = new Set();
    for (const line of lines.filter((l) => l.startsWith('|'))) {
        const cells = line.split('|').slice(1, -1).map((c) => c.trim());
        for (const token of line.match(/\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b|\b[A-Z]{4,}\b/g) || []) settings.add(token);
        if (m.SERVICES.includes(cells[0])) {
            defaults[cells[0]] = { PORT: Number(cells[1]), ADMIN_PORT: Number(cells[2]) };
            for (const [, name, value] of cells[3].matchAll(/([A-Z_]+) \(([^)]+)\)/g)) defaults[cells[0]][name] = value;
        }
    }
    const allThree = text.slice(text.indexOf('All three:'), text.indexOf('\n\n', text.indexOf('All three:')));
    const common = {};
    for (const token of allThree.match(/\b[A-Z][A-Z0-9_]{3,}\b/g) || []) settings.add(token);
    for (const [, name, value] of allThree.matchAll(/([A-Z_]+) \(([^)]+)\)/g)) common[name] = value;
    const liveness = /`GET (\/[a-z]+)` \(liveness/.exec(text);
    const readiness = /`GET (\/[a-z]+)` \(200 when ready/.exec(text);
    const version = /Project version: ([0-9]+\.[0-9]+\.[0-9]+)/.exec(text);
    const uid = /numeric user (\d+)/.exec(text);
    return {
        defaults, common, settings,
        liveness: liveness && liveness[1],
        readiness: readiness && readiness[1],
        version: version && version[1],
        uid: uid && Number(uid[1]),
    };
}

module.exports = { contract };
