// Bundles the container init (dist/daemon/runtime/init.js, after tsc) with everything it loads,
// FFI included, into dist/daemon/runtime/init.bundle.js. Every container start and every spare
// exec init is a fresh Node process, and resolving and compiling some forty module files, then
// loading `debug` and `assert` (which build process.stderr and Node's stream stack) cost more
// than Node's own start: about 105 ms of CPU per init here, 59 ms bundled (docs/architecture.md).
import { build } from 'esbuild';
import { readFile } from 'fs/promises';
import { dirname, join, relative } from 'path';
import { fileURLToPath } from 'url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outfile = join(root, 'dist/daemon/runtime/init.bundle.js');

// ref-napi and ffi-napi find their compiled addon from their own __dirname, which in a bundle is
// the bundle's: point them back at their package directories, relative to the bundle so that the
// tree can move as a whole.
const LOOKUP = "require('node-gyp-build')(path.join(__dirname, '..'))";

const addonPaths = {
  name: 'addon-paths',
  setup(b) {
    b.onLoad({ filter: /@2060\.io[\\/](ref|ffi)-napi[\\/]lib[\\/](ref|bindings)\.js$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      if (!source.includes(LOOKUP)) throw new Error(`${args.path}: its addon lookup changed; update scripts/bundle-init.mjs`);
      const pkgDir = relative(dirname(outfile), dirname(dirname(args.path)));
      return { contents: source.replace(LOOKUP, `require('node-gyp-build')(path.join(__dirname, ${JSON.stringify(pkgDir)}))`), loader: 'js' };
    });
  },
};

await build({
  entryPoints: [join(root, 'dist/daemon/runtime/init.js')],
  outfile,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  alias: { debug: join(root, 'dist/native/shims/debug.js'), assert: join(root, 'dist/native/shims/assert.js') },
  plugins: [addonPaths],
  logLevel: 'warning',
});
