// Parse and type-check Flux with InfluxData's own Flux compiler (Rust, as WebAssembly, from the
// @influxdata/flux-lsp-browser package: the parser and semantic analyser behind the InfluxDB UI editor).
//
//   node flux-check.mjs < scripts.json     (a JSON array of Flux scripts)
//   → a JSON array, one {syntax_errors: [...], valid: bool, semantic: bool} per script
//
// valid: the script parses; semantic: it also passes the semantic check (known packages and functions,
// defined identifiers, argument names and types as far as the analyser infers them).
// The package is built for bundlers (`import * as wasm from "….wasm"`), so it is instantiated by hand here.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);
const pkgDir = dirname(require.resolve("@influxdata/flux-lsp-browser/package.json"));

let glue = readFileSync(join(pkgDir, "flux-lsp-browser_bg.js"), "utf8");
const memoryViews = "cachedInt32Memory0 = new Int32Array(wasm.memory.buffer); " +
  "cachedUint8Memory0 = new Uint8Array(wasm.memory.buffer);";
glue = glue.replace(/^import \* as wasm from .*$/m, `let wasm; export function __setWasm(w) { wasm = w; ${memoryViews} }`);
glue = glue.replace(/^cached(Int32|Uint8)Memory0 = new \w+\(wasm\.memory\.buffer\);$/gm, "");
const mod = await import("data:text/javascript;base64," + Buffer.from(glue).toString("base64"));
const { instance } = await WebAssembly.instantiate(readFileSync(join(pkgDir, "flux-lsp-browser_bg.wasm")),
  { "./flux-lsp-browser_bg.js": mod });
mod.__setWasm(instance.exports);

function collectErrors(node, out) {
  if (Array.isArray(node)) {
    node.forEach((n) => collectErrors(n, out));
  } else if (node && typeof node === "object") {
    if (Array.isArray(node.errors)) {
      for (const e of node.errors) out.push(e.msg ?? JSON.stringify(e));
    }
    for (const [k, v] of Object.entries(node)) if (k !== "errors") collectErrors(v, out);
  }
  return out;
}

const scripts = JSON.parse(readFileSync(0, "utf8"));
const results = scripts.map((script) => {
  const syntax_errors = collectErrors(mod.parse(script), []);
  let semantic;
  try {
    const f = new mod.Flux(script);
    semantic = f.is_valid();
    f.free();
  } catch (e) {
    semantic = false;
    syntax_errors.push(String(e));
  }
  return { syntax_errors, valid: mod.is_valid_flux(script), semantic };
});
process.stdout.write(JSON.stringify(results));
