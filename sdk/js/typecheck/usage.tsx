// An integrator's typed use of every declared name (docs/sdk.md). `tsc -p sdk/js/tsconfig.json` must accept
// it, and each `@ts-expect-error` line must stay an error: a declaration that is wrong, missing or too
// loose (any) fails the check. Not part of the npm package (package.json "files").
import Liveproof, {
  mount,
  version,
  watch,
  VerifyVerifier,
  type CheckResult,
  type MountOptions,
  type Mounted,
  type ServiceError,
  type VerificationCompleted,
  type VerifyVerifierProps,
  type WatchOptions,
  type Watcher,
} from "../index.js";
import * as core from "../liveproof.js";
import DefaultVerifier from "../react.js";

const host: HTMLElement = document.createElement("div");
const seen: string[] = [];

// Embedded: the sessionUrl form, every callback typed.
const options: MountOptions = {
  sessionUrl: "https://liveproof.example/s/a1b2c3d4-e5f6-7890-abcd-ef1234567890/?k=key",
  locale: "de",
  height: "600px",
  title: "Verify",
  onVerificationCompleted(result: VerificationCompleted) {
    const id: string = result.verificationSessionId;
    const verdict: "Pass" | "Fail" | null = result.verificationResult;
    const next: string | null = result.redirectedTo;
    seen.push(id, String(verdict), String(next));
  },
  onServiceError({ operation, code, message }: ServiceError) {
    seen.push(operation + code + message);
  },
  onCancel: ({ verificationSessionId }) => seen.push(verificationSessionId),
};
const mounted: Mounted = mount(host, options);
const frame: HTMLIFrameElement = mounted.element;
frame.title = "checked";
mounted.unmount();
// The sessionId + accessToken (+ baseUrl) form, through the default export (window.Liveproof).
Liveproof.mount(host, { sessionId: "id", accessToken: "token", baseUrl: "https://liveproof.example" }).unmount();
const sameVersion: string = version === Liveproof.version ? core.version : "";

// Headless: the integrator's own <video>, or a MediaStream, or nothing (the SDK opens the camera).
const video: HTMLVideoElement = document.createElement("video");
const watching: WatchOptions = {
  sessionToken: "header.payload.signature",
  video,
  intervalMs: 2000,
  baseUrl: "https://liveproof.example",
  checks: true,
  deviceId: "app-install-0123456789abcdef",
  onCheck(check: CheckResult) {
    const same: boolean = check.samePerson;
    const similarity: number | null = check.similarity;
    const faces: number = check.faceCount;
    const live: boolean | null = check.live;
    if (check.alert === "faceChanged" || check.alert === "multipleFaces" || check.alert === null) {
      seen.push(String(same), String(similarity), String(faces), String(live));
    }
  },
  onVerificationCompleted({ verificationSessionId, verificationResult, reasons }) {
    const all: string[] = [verificationSessionId, String(verificationResult), ...reasons];
    seen.push(...all);
  },
  onServiceError: (error) => seen.push(error.code),
  onChallenge({ challenge, index, total, reprompt }) {
    const position: number = index + total;
    const again: boolean = reprompt;
    seen.push(challenge + position + String(again));
  },
};
const watcher: Watcher = watch(watching);
const sessionId: string = watcher.sessionId;
watcher.stop();
core.watch({ sessionToken: "t", video: new MediaStream() }).stop();
core.default.watch({ sessionToken: "t" }).stop();

// React: the document's props, embedded and headless.
const props: VerifyVerifierProps = {
  sessionId,
  accessToken: "token",
  region: "eu",
  onVerificationCompleted: (id, result) => seen.push(id, String(result.verificationResult)),
  onServiceError: (operation, error) => seen.push(operation, error.message),
};
const embedded = <VerifyVerifier {...props} baseUrl="https://liveproof.example" locale="fr" className="v" style={{ height: 600 }} />;
const headless = (
  <DefaultVerifier sessionId="id" accessToken="token" headless video={video} intervalMs={1000} onCheck={(c) => seen.push(String(c.samePerson))} onChallenge={(c) => seen.push(c.challenge, String(c.reprompt))} onCancel={(id) => seen.push(id)} />
);

// What the declarations must refuse.
// @ts-expect-error mount needs an element
mount(options);
// @ts-expect-error watch needs a sessionToken
watch({ video });
// @ts-expect-error a verdict is Pass, Fail or null
const wrongVerdict: VerificationCompleted["verificationResult"] = "Maybe";
// @ts-expect-error no such alert
const wrongAlert: CheckResult["alert"] = "tooDark";
// @ts-expect-error similarity is a number
const wrongSimilarity: CheckResult["similarity"] = "0.9";
// @ts-expect-error video is an element or a stream
watch({ sessionToken: "t", video: "#camera" });
// @ts-expect-error the component needs accessToken
const missingToken = <VerifyVerifier sessionId="id" />;
// @ts-expect-error a Watcher has no pause
watcher.pause();
// @ts-expect-error a Mounted has no restart
mounted.restart();

export { embedded, headless, frame, sameVersion, wrongVerdict, wrongAlert, wrongSimilarity, missingToken };
