'use strict';
/**
 * Schema validation of rendered objects.
 *
 * - Kubernetes, Gateway API and Istio objects: the model classes of kubernetes-models,
 *   @kubernetes-models/gateway-api and @kubernetes-models/istio (types, enums, required fields,
 *   from the upstream OpenAPI schemas). Their validate() accepts unknown fields, so a second
 *   pass walks each object along the TypeScript declarations that ship with the same packages
 *   (read with the TypeScript compiler) and reports every field the type does not declare: a
 *   misspelt optional field such as `readinesProbe` is an error, not silently ignored.
 * - Linkerd objects, and kinds whose model is older than the version we pin (Istio's
 *   telemetry.istio.io/v1 and AuthorizationPolicy with targetRefs; Gateway API HTTPRoute with
 *   `retry`, which @kubernetes-models/gateway-api@0.5.1 lacks): the openAPIV3Schema of the
 *   projects' own CRDs (schemas/linkerd/, schemas/istio/, schemas/gateway-api/), compiled with
 *   ajv with unknown fields rejected. Where such a CRD schema is kept, it wins over the model.
 */
const fs = require('node:fs');
const path = require('node:path');
const YAML = require('yaml');
const Ajv = require('ajv');
const ts = require('typescript');

const ROOT = path.resolve(__dirname, '..');
const NODE_MODULES = path.join(ROOT, 'node_modules');

/** Module (and .d.ts) path of the model for apiVersion/kind, or null if there is none. */
function modelModule(apiVersion, kind) {
    const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
    if (group === '') return `kubernetes-models/${version}/${kind}`;
    if (group === 'gateway.networking.k8s.io') return `@kubernetes-models/gateway-api/${group}/${version}/${kind}`;
    if (group.endsWith('.istio.io')) return `@kubernetes-models/istio/${group}/${version}/${kind}`;
    if (group.endsWith('linkerd.io')) return null;
    return `kubernetes-models/${group}/${version}/${kind}`;
}

function loadModel(apiVersion, kind) {
    const mod = modelModule(apiVersion, kind);
    if (!mod) return null;
    try {
        const exported = require(mod);
        return { mod, Model: exported[kind] || exported.default };
    } catch (e) {
        if (e.code === 'MODULE_NOT_FOUND' || e.code === 'ERR_PACKAGE_PATH_NOT_EXPORTED') return null;
        throw e;
    }
}

// ---------------------------------------------------------------------------------------------
// Unknown fields, from the TypeScript declarations.

let program = null;
let checker = null;
const declared = new Map(); // .d.ts file -> interface type (resolved lazily)

/** One TypeScript program over the .d.ts files of all the given models (rebuilt if one is new). */
function ensureProgram(files) {
    const missing = files.filter((f) => !declared.has(f));
    if (program && missing.length === 0) return;
    for (const f of missing) declared.set(f, null);
    program = ts.createProgram([...declared.keys()], {
        noEmit: true, strict: false, skipLibCheck: true, types: [],
        moduleResolution: ts.ModuleResolutionKind.Node10,
    });
    checker = program.getTypeChecker();
    for (const key of declared.keys()) declared.set(key, null);
}

const dtsOf = (mod) => path.join(NODE_MODULES, `${mod}.d.ts`);

function typeOfModel(mod, kind) {
    const file = dtsOf(mod);
    ensureProgram([file]);
    if (declared.get(file)) return declared.get(file);
    const source = program.getSourceFile(file);
    if (!source) throw new Error(`no declarations at ${file}`);
    const moduleSymbol = checker.getSymbolAtLocation(source);
    const symbol = checker.getExportsOfModule(moduleSymbol).find((s) => s.name === `I${kind}`);
    if (!symbol) throw new Error(`no interface I${kind} in ${file}`);
    const type = checker.getDeclaredTypeOfSymbol(symbol);
    declared.set(file, type);
    return type;
}

/** Reads the declarations of every model these objects need in one go (one compiler run). */
function prepare(objects) {
    const files = new Set();
    for (const o of objects) {
        const model = o.apiVersion && o.kind && loadModel(o.apiVersion, o.kind);
        if (model && model.Model) files.add(dtsOf(model.mod));
    }
    ensureProgram([...files]);
}

const SCALAR = ts.TypeFlags.StringLike | ts.TypeFlags.NumberLike | ts.TypeFlags.BooleanLike |
    ts.TypeFlags.BigIntLike | ts.TypeFlags.Null | ts.TypeFlags.Undefined | ts.TypeFlags.Void |
    ts.TypeFlags.EnumLike | ts.TypeFlags.Never;
const OPEN = ts.TypeFlags.Any | ts.TypeFlags.Unknown;

function constituents(type) {
    if (type.isUnion()) return type.types.flatMap(constituents);
    return [type];
}

function typeOfProperty(symbol) {
    if (checker.getTypeOfSymbol) return checker.getTypeOfSymbol(symbol);
    const decl = symbol.valueDeclaration || (symbol.declarations || [])[0];
    return checker.getTypeOfSymbolAtLocation(symbol, decl);
}

/** Reports every key of `value` that none of `types` declares, recursively. */
function unknownFields(value, types, where, out) {
    if (value === null || typeof value !== 'object') return;
    const all = types.flatMap(constituents);
    if (all.some((t) => t.flags & OPEN)) return;
    const objects = all.filter((t) => !(t.flags & SCALAR)).map((t) => checker.getApparentType(t));
    if (objects.length === 0) return;
    if (Array.isArray(value)) {
        const elements = objects
            .map((t) => checker.getIndexInfoOfType(t, ts.IndexKind.Number))
            .filter(Boolean).map((i) => i.type);
        if (elements.length) value.forEach((v, i) => unknownFields(v, elements, `${where}[${i}]`, out));
        return;
    }
    const indexTypes = objects.map((t) => checker.getIndexInfoOfType(t, ts.IndexKind.String)).filter(Boolean).map((i) => i.type);
    for (const [key, child] of Object.entries(value)) {
        const propTypes = [];
        for (const t of objects) {
            const p = checker.getPropertyOfType(t, key);
            if (p) propTypes.push(typeOfProperty(p));
        }
        if (propTypes.length === 0 && indexTypes.length === 0) {
            out.push(`${where}.${key}: unknown field`);
            continue;
        }
        unknownFields(child, propTypes.length ? propTypes : indexTypes, `${where}.${key}`, out);
    }
}

// ---------------------------------------------------------------------------------------------
// Linkerd, and Istio kinds without a model, from their CRDs.

const crdValidators = new Map(); // "group/version/Kind" -> compiled validator

/** Makes a CRD schema strict the way the API server reads it, for ajv. */
function strictSchema(schema, top) {
    if (Array.isArray(schema)) return schema.map((s) => strictSchema(s, false));
    if (!schema || typeof schema !== 'object') return schema;
    const out = {};
    for (const [k, v] of Object.entries(schema)) {
        if (k === 'description' || k.startsWith('x-kubernetes-')) continue;
        out[k] = (k === 'properties')
            ? Object.fromEntries(Object.entries(v).map(([p, s]) => [p, strictSchema(s, false)]))
            : strictSchema(v, false);
    }
    if (schema['x-kubernetes-int-or-string'] && !out.type && !out.anyOf) {
        out.anyOf = [{ type: 'integer' }, { type: 'string' }];
    }
    if (top) {
        out.properties = { apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { type: 'object' }, ...out.properties };
    }
    const preserve = schema['x-kubernetes-preserve-unknown-fields'];
    if (out.properties && !preserve && out.additionalProperties === undefined) out.additionalProperties = false;
    return out;
}

function loadCrdSchemas() {
    if (crdValidators.size) return;
    const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, strictTypes: false });
    ajv.addFormat('int32', { type: 'number', validate: (n) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
    ajv.addFormat('int64', { type: 'number', validate: (n) => Number.isInteger(n) });
    ajv.addFormat('uint32', { type: 'number', validate: (n) => Number.isInteger(n) && n >= 0 && n < 2 ** 32 });
    ajv.addFormat('float', { type: 'number', validate: () => true });
    ajv.addFormat('double', { type: 'number', validate: () => true });
    // Istio's CRDs use it in status only, which our files never set; RFC 3339, loosely.
    ajv.addFormat('date-time', { type: 'string', validate: (t) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/i.test(t) });
    for (const project of ['linkerd', 'istio', 'gateway-api']) {
        const dir = path.join(ROOT, 'schemas', project);
        for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.yaml'))) {
            // Linkerd's files are Helm templates: drop the lines that hold template actions.
            const text = fs.readFileSync(path.join(dir, file), 'utf8')
                .split('\n').filter((l) => !l.includes('{{')).join('\n');
            for (const crd of YAML.parseAllDocuments(text).map((d) => d.toJS()).filter(Boolean)) {
                for (const v of crd.spec.versions) {
                    const key = `${crd.spec.group}/${v.name}/${crd.spec.names.kind}`;
                    crdValidators.set(key, ajv.compile(strictSchema(v.schema.openAPIV3Schema, true)));
                }
            }
        }
    }
}

function validateWithCrd(obj, where) {
    loadCrdSchemas();
    const validator = crdValidators.get(`${obj.apiVersion}/${obj.kind}`);
    if (!validator) return null;
    return validator(obj) ? [] : validator.errors.map((e) => `${where}${e.instancePath} ${e.message}${e.params && e.params.additionalProperty ? ` (${e.params.additionalProperty})` : ''}`);
}

/**
 * Validates one rendered object; returns a list of problems (empty when valid).
 * Objects with no schema at all are a problem too: nothing may go unchecked.
 */
function validateObject(obj) {
    const where = `${obj.kind}/${obj.metadata && obj.metadata.name}`;
    if (!obj.apiVersion || !obj.kind) return [`${where}: apiVersion and kind are required`];
    if (/linkerd\.io\//.test(obj.apiVersion)) {
        return validateWithCrd(obj, where) || [`${where}: no Linkerd CRD schema for ${obj.apiVersion} ${obj.kind}`];
    }
    // A kept CRD schema is the version the walkthrough installs; the model may predate fields we use.
    const fromCrd = validateWithCrd(obj, where);
    if (fromCrd) return fromCrd;
    const model = loadModel(obj.apiVersion, obj.kind);
    if (!model || !model.Model) {
        // No model (e.g. telemetry.istio.io/v1): the project's own CRD schema, kept as data.
        return validateWithCrd(obj, where) || [`${where}: no schema model for ${obj.apiVersion} ${obj.kind}`];
    }
    const problems = [];
    try {
        new model.Model(obj).validate();
    } catch (e) {
        problems.push(`${where}: ${e.message}`);
    }
    const unknown = [];
    unknownFields(obj, [typeOfModel(model.mod, obj.kind)], where, unknown);
    return problems.concat(unknown);
}

module.exports = { validateObject, prepare, modelModule };
