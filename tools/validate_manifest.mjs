// Validate a Teams app manifest against Microsoft's JSON schema for its manifestVersion, as
// bundled in the npm package @microsoft/app-manifest (the Agents Toolkit's own validator), so
// nothing is fetched: a version the package does not bundle is an error, not a download.
//
//   node tools/validate_manifest.mjs path/to/manifest.json
//
// Prints one problem per line ("/bots/0/botId must match pattern ...") and exits 1 if there are
// any; tools/app_package.py runs it on every package it builds.
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);
const [manifestPath] = process.argv.slice(2);
if (!manifestPath) {
  console.error("usage: node tools/validate_manifest.mjs MANIFEST");
  process.exit(2);
}
const manifest = JSON.parse(readFileSync(manifestPath, "utf8"));
const version = manifest.manifestVersion;
const packageRoot = dirname(require.resolve("@microsoft/app-manifest/package.json"));
const schemaPath = join(
  packageRoot, "build", "json-schemas", "teams", `v${version}`, "MicrosoftTeams.schema.json",
);
if (typeof version !== "string" || !existsSync(schemaPath)) {
  console.log(`/manifestVersion ${JSON.stringify(version)} has no schema in @microsoft/app-manifest`);
  process.exit(1);
}
// The package's own loader does the same: some schemas hold \a and \v, which JSON cannot.
const schemaText = readFileSync(schemaPath, "utf8").replace(/\\a/g, "\\u0007").replace(/\\v/g, "\\u000b");
const { ManifestUtil } = require("@microsoft/app-manifest");
const problems = await ManifestUtil.validateManifestAgainstSchema(manifest, JSON.parse(schemaText));
for (const problem of problems) console.log(problem);
process.exit(problems.length ? 1 : 0);
