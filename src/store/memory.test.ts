import { MemoryStore } from './memory.js';
import { storeConformance } from './store.conformance.js';

storeConformance('memory', { open: async () => new MemoryStore(), fullHistory: false });
