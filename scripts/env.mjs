// Shared paths and versions for the set-up, start, test and package scripts.
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const CODE_SERVER_VERSION = '4.100.3';
export const CACHE = process.env.DCD_CACHE || path.join(os.homedir(), '.cache', 'dcd-studio');
export const CODE_SERVER_DIR = path.join(CACHE, `code-server-${CODE_SERVER_VERSION}`);
export const CODE_SERVER_BIN = path.join(CODE_SERVER_DIR, 'node_modules', '.bin', 'code-server');
export const CHROMIUM = process.env.DCD_CHROMIUM || '/usr/bin/chromium';

/** Debian packages the tests and `npm start` need, with the file that proves each is installed. */
export const APT_PACKAGES = [
  ['chromium', '/usr/bin/chromium'],
  ['openssh-server', '/usr/sbin/sshd'],
  ['openssh-client', '/usr/bin/scp'],
  ['python3-torch', '/usr/lib/python3/dist-packages/torch/__init__.py'],
  ['python3-onnx', '/usr/lib/python3/dist-packages/onnx/__init__.py'],
  ['python3-numpy', '/usr/lib/python3/dist-packages/numpy/__init__.py'],
  ['ripgrep', '/usr/bin/rg'],
  ['tmux', '/usr/bin/tmux'],
  ['libkrb5-dev', '/usr/include/krb5.h'],
  ['libxkbfile-dev', '/usr/include/X11/extensions/XKBfile.h'],
  ['libsecret-1-dev', '/usr/include/libsecret-1/libsecret/secret.h'],
  ['libx11-dev', '/usr/include/X11/Xlib.h'],
  ['fonts-dejavu-core', '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf'],
];
