// Runs before every test file: selects the backend (CINDER_BACKEND or the best available).
import { initBackend } from '../src/core/backend.js';

await initBackend();
