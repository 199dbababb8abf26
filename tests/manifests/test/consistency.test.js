'use strict';
// Cross-file consistency, which no schema checks (lib/checks.js): selectors against pod labels,
// Service ports against container ports, host names in env against Services, probes and settings
// against the service contract, images against the container build, routes and policies against
// what exists, retry budgets against the walkthrough's numbers, the walkthrough's commands
// against the files. Each check runs here on the files as they are; test/mutations.test.js runs
// the same checks on copies with one realistic mistake each.
const test = require('node:test');
const { CHECKS, loadContext } = require('../lib/checks');

const ctx = loadContext();
for (const c of CHECKS) test(c.name, () => c.run(ctx));
