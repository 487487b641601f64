/* VerifyVerifier: the Web SDK document's React component over Liveproof.mount / Liveproof.watch.
   React is a peer dependency. Props as the document names them (sessionId, accessToken, region,
   onVerificationCompleted(sessionId), onServiceError(operation), headless); docs/sdk.md lists the rest. */
import { createElement, useEffect, useRef } from "react";
import { mount, watch } from "./liveproof.js";

export function VerifyVerifier(props) {
  const holder = useRef(null);
  const latest = useRef(props);
  latest.current = props;
  const { sessionId, accessToken, baseUrl, locale, headless, video, intervalMs } = props;

  useEffect(() => {
    const p = () => latest.current;
    const completed = (result) => p().onVerificationCompleted && p().onVerificationCompleted(result.verificationSessionId, result);
    const failed = (error) => p().onServiceError && p().onServiceError(error.operation, error);
    if (headless) {
      const watcher = watch({
        sessionToken: accessToken,
        baseUrl,
        video,
        intervalMs,
        checks: Boolean(p().onCheck),
        onVerificationCompleted: completed,
        onServiceError: failed,
        onCheck: (check) => p().onCheck && p().onCheck(check),
        onChallenge: (challenge) => p().onChallenge && p().onChallenge(challenge),
      });
      return () => watcher.stop();
    }
    const embedded = mount(holder.current, {
      sessionId,
      accessToken,
      baseUrl,
      locale,
      onVerificationCompleted: completed,
      onServiceError: failed,
      onCancel: (info) => p().onCancel && p().onCancel(info.verificationSessionId),
    });
    return () => embedded.unmount();
  }, [sessionId, accessToken, baseUrl, locale, headless, video, intervalMs]);

  return createElement("div", { ref: holder, className: props.className, style: props.style, hidden: Boolean(headless) });
}

export default VerifyVerifier;
