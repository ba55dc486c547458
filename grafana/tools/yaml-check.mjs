// Parse YAML files with js-yaml and print them as JSON: node yaml-check.mjs FILE… → {"FILE": <document>, …}
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const yaml = createRequire(import.meta.url)("js-yaml");
const out = {};
for (const path of process.argv.slice(2)) out[path] = yaml.load(readFileSync(path, "utf8"));
process.stdout.write(JSON.stringify(out));
