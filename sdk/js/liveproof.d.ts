/** Liveproof Web SDK (docs/sdk.md). The same API as `window.Liveproof` (liveproof.global.js). */

/** Reported once the hosted page has a final verdict, whether or not a redirect URL is set. */
export interface VerificationCompleted {
  verificationSessionId: string;
  /** "Pass" or "Fail"; read the whole result server-side with get-session-result. */
  verificationResult: "Pass" | "Fail" | null;
  /** Where the page sends the user next (the signed result redirect), or null without a redirect URL. */
  redirectedTo: string | null;
}

/** Every problem the page or the socket meets. */
export interface ServiceError {
  /** What failed: "camera", "connection", "session", "verify", "socket", "load". */
  operation: string;
  /** e.g. cameraDenied, cameraMissing, cameraInUse, connectionLost, sessionExpired, sessionUsed, tokenExpired, unknownSession,
   *  tokenUsed, verificationFailed, or a socket error code of docs/websocket.md. */
  code: string;
  message: string;
}

export interface MountOptions {
  /** The create-session sessionUrl (hosted page), or sessionId + accessToken (+ baseUrl). */
  sessionUrl?: string;
  sessionId?: string;
  accessToken?: string;
  /** The service's URL; defaults to the origin this script was loaded from (/sdk/v1/). */
  baseUrl?: string;
  /** Language of the hosted page, e.g. "en" or "de". */
  locale?: string;
  /** CSS height of the iframe (default "640px"). */
  height?: string;
  title?: string;
  onVerificationCompleted?: (result: VerificationCompleted) => void;
  onServiceError?: (error: ServiceError) => void;
  onCancel?: (info: { verificationSessionId: string }) => void;
}

export interface Mounted {
  element: HTMLIFrameElement;
  unmount(): void;
}

/** One sample of a continuous check, compared with the face the session kept when it passed. */
export interface CheckResult {
  samePerson: boolean;
  /** Similarity of the best face with the enrolled one, 0..1; null when no face was seen. */
  similarity: number | null;
  faceCount: number;
  /** The stream is live (a face in view, the picture changed since the last sample); null on the first sample. */
  live: boolean | null;
  /** "faceChanged", "multipleFaces" or null. */
  alert: "faceChanged" | "multipleFaces" | null;
}

export interface WatchOptions {
  /** The create-session sessionToken (it names its session). */
  sessionToken: string;
  /** Your own <video> (playing) or MediaStream; omitted: the SDK opens the camera itself. Nothing is shown. */
  video?: HTMLVideoElement | MediaStream;
  /** Time between two samples once the session passed (default 2000; the server's minimum is 500). */
  intervalMs?: number;
  baseUrl?: string;
  /** Keep checking after the session passed (default true). */
  checks?: boolean;
  /** Your app's own id of this device (16-128 of A-Z a-z 0-9 _ -), for the result's deviceId and the newDevice
   *  risk signal; the service stores only its HMAC. Without it a cross-site page has no device id. */
  deviceId?: string;
  onCheck?: (check: CheckResult) => void;
  /** The session's verdict; not called for an expired session (onServiceError: session, sessionExpired). */
  onVerificationCompleted?: (result: { verificationSessionId: string; verificationResult: "Pass" | "Fail" | null; reasons: string[] }) => void;
  onServiceError?: (error: ServiceError) => void;
  /** Active sessions only: the challenge to show (headless sessions are best Passive); `index` counts from 0,
   *  `reprompt` is true for a fresh challenge replacing one not answered in time. */
  onChallenge?: (challenge: { challenge: string; index: number; total: number; reprompt: boolean }) => void;
}

export interface Watcher {
  sessionId: string;
  /** Ends checking (also while it waits to reconnect) and turns off a camera the SDK opened itself; a `video`
   *  of your own stays on. */
  stop(): void;
}

export declare const version: string;
export declare function mount(element: HTMLElement, options: MountOptions): Mounted;
export declare function watch(options: WatchOptions): Watcher;

declare const Liveproof: { version: string; mount: typeof mount; watch: typeof watch };
export default Liveproof;
