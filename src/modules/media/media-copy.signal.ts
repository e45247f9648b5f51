import { WorkerSignal } from '../../shared/worker-signal.js';

/**
 * AppDeps.mediaCopy: the inbound webhook wakes this instance's media-copy worker after it
 * committed copy jobs (other instances find them by polling).
 */
export class MediaCopySignal extends WorkerSignal {}
