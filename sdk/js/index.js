/* The package's entry: the SDK (mount, watch) and the React component (React is a peer dependency).
   Without React, import "@liveproof/web-sdk/core" (the same file the service serves at /sdk/v1/liveproof.js). */
export { mount, watch, version } from "./liveproof.js";
export { VerifyVerifier } from "./react.js";
export { default } from "./liveproof.js";
