// Type-check dashboard JSON against Grafana's published schema (the @grafana/schema package: the
// TypeScript types Grafana generates from its CUE dashboard and panel kinds) with the TypeScript compiler.
//
//   node schema-check.mjs DASHBOARD.json…   → a JSON array of diagnostics (empty: every file conforms)
//
// Each dashboard becomes an object literal typed `Dashboard`, so unknown keys (excess properties), missing
// required keys and wrong types are errors. Every panel of a core type is checked a second time against that
// panel's own Options/FieldConfig types; a plugin panel (the Gantt) is checked as a generic Panel.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";

const require = createRequire(import.meta.url);
const ts = require("typescript");

// panel type → [schema dir, module name, has a FieldConfig type]
const PANELS = {
  "state-timeline": ["statetimeline", "StateTimelinePanelCfg", true],
  timeseries: ["timeseries", "TimeSeriesPanelCfg", true],
  table: ["table", "TablePanelCfg", true],
  bargauge: ["bargauge", "BarGaugePanelCfg", false],
  stat: ["stat", "StatPanelCfg", false],
  text: ["text", "TextPanelCfg", false],
};
// JSON holds enum values as plain strings: Loose<T> turns every string enum in T into the union of its values
// (`${E}`), leaving the rest of the type (and its excess-property checks) as it is.
const LOOSE = "type Loose<T> = T extends string ? (string extends T ? T : `${T}`)" +
  " : T extends readonly (infer U)[] ? Loose<U>[] : T extends object ? { [K in keyof T]: Loose<T[K]> } : T;";
const here = dirname(new URL(import.meta.url).pathname);
const work = mkdtempSync(join(tmpdir(), "schema-check-"));
const files = [];
try {
  process.argv.slice(2).forEach((path, n) => {
    const dash = JSON.parse(readFileSync(path, "utf8"));
    const lines = [`import type { AnnotationContainer, AnnotationQuery, Dashboard, DataQuery, Panel } from "@grafana/schema";`,
      LOOSE,
      // the InfluxDB data source's query model (Grafana's influxdb plugin types; not part of @grafana/schema)
      "type InfluxQuery = DataQuery & { query?: string; rawQuery?: boolean; resultFormat?: string };",
      // the veneer Panel<TOptions> does not apply TOptions to `options`: do it here
      "type TypedPanel<O, F = Record<string, unknown>> = Omit<Panel<O, F>, 'options'> & { options: O };",
      "type InfluxDashboard = Omit<Dashboard, 'annotations'> & " +
        "{ annotations?: Omit<AnnotationContainer, 'list'> & { list?: AnnotationQuery<InfluxQuery>[] } };"];
    const used = new Set((dash.panels ?? []).map((p) => p.type).filter((t) => t in PANELS));
    for (const t of used) {
      const [dir, name] = PANELS[t];
      lines.push(`import type * as P_${dir} from "@grafana/schema/dist/esm/raw/composable/${dir}/panelcfg/x/${name}_types.gen";`);
    }
    lines.push(`export const dashboard: Loose<InfluxDashboard> = ${JSON.stringify(dash, null, 2)};`);
    (dash.panels ?? []).forEach((p, i) => {
      let type = "Panel";
      if (PANELS[p.type]) {
        const [dir, , fieldConfig] = PANELS[p.type];
        type = `TypedPanel<P_${dir}.Options${fieldConfig ? `, P_${dir}.FieldConfig` : ""}>`;
      }
      lines.push(`export const panel_${i}: Loose<${type}> = ${JSON.stringify(p, null, 2)};`);
    });
    const file = join(work, `d${n}_${basename(path).replace(/\W/g, "_")}.ts`);
    writeFileSync(file, lines.join("\n") + "\n");
    files.push([file, path]);
  });
  const program = ts.createProgram(files.map(([f]) => f), {
    strict: true, noEmit: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler, skipLibCheck: true, typeRoots: [],
    baseUrl: here, paths: { "@grafana/schema": [join(here, "node_modules/@grafana/schema")],
      "@grafana/schema/*": [join(here, "node_modules/@grafana/schema/*")] },
  });
  const names = new Map(files);
  const diags = ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file ? d.file.getLineAndCharacterOfPosition(d.start ?? 0) : null;
    const text = d.file ? d.file.text.split("\n")[where.line] : "";
    return {
      file: d.file ? names.get(d.file.fileName) ?? d.file.fileName : null,
      line: where ? where.line + 1 : null,
      source: text.trim().slice(0, 200),
      message: ts.flattenDiagnosticMessageText(d.messageText, "\n"),
    };
  });
  process.stdout.write(JSON.stringify(diags, null, 1));
} finally {
  rmSync(work, { recursive: true, force: true });
}
