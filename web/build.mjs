// Builds the web app into dist/ (app.js, app.css, index.html): minified and
// deterministic, so CI can rebuild and compare with the committed bundle
// (check-bundle.sh). Run with `npm run build`.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });

const common = {
  bundle: true,
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  charset: 'utf8',
  logLevel: 'warning',
  absWorkingDir: here,
};

await build({ ...common, entryPoints: ['src/main.js'], outfile: join(dist, 'app.js'), format: 'esm', target: ['es2020', 'chrome100', 'firefox100', 'safari15'] });
await build({ ...common, entryPoints: ['src/app.css'], outfile: join(dist, 'app.css'), target: ['chrome100', 'firefox100', 'safari15'] });
copyFileSync(join(here, 'src/index.html'), join(dist, 'index.html'));

// The notices of the bundled packages (MIT and friends ask for them to travel
// with the code): every non-dev package in the lockfile, in lockfile order.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
const lock = JSON.parse(readFileSync(join(here, 'package-lock.json'), 'utf8'));
let notices = 'Third-party software bundled in app.js\n';
for (const [path, meta] of Object.entries(lock.packages)) {
  if (!path.startsWith('node_modules/') || meta.dev) continue;
  const dir = join(here, path);
  const lic = readdirSync(dir).find((f) => /^licen[cs]e/i.test(f));
  notices += `\n==== ${path.slice('node_modules/'.length)} ${meta.version} (${meta.license || 'see below'})\n`;
  if (lic) notices += readFileSync(join(dir, lic), 'utf8').trim() + '\n';
}
writeFileSync(join(dist, 'LICENSES.txt'), notices);
