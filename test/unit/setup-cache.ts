import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

// The unit tests keep the library builds they make in a cache of their own (one per test file), never in the
// user's ~/.cache: a test judges only what it made. Tests about the cache set their own.
const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'clm-jest-cache-'));
process.env.CDK_LAMBDA_MULTIPROCESSING_CACHE = cache;
process.on('exit', () => fs.rmSync(cache, { recursive: true, force: true }));
