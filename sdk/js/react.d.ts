import type { CSSProperties, ReactElement } from "react";
import type { CheckResult, ServiceError, VerificationCompleted } from "./liveproof";

/** The Web SDK document's component: embedded (an iframe of the hosted page) or headless. */
export interface VerifyVerifierProps {
  /** verificationSessionId from create-session. */
  sessionId: string;
  /** sessionToken from create-session. */
  accessToken: string;
  /** Accepted for compatibility with the document; the service is baseUrl. */
  region?: string;
  baseUrl?: string;
  locale?: string;
  /** No built-in UI: frames of the camera (or `video`) are checked silently. */
  headless?: boolean;
  video?: HTMLVideoElement | MediaStream;
  intervalMs?: number;
  onVerificationCompleted?: (sessionId: string, result: VerificationCompleted | { verificationSessionId: string; verificationResult: "Pass" | "Fail" | null; reasons: string[] }) => void;
  onServiceError?: (operation: string, error: ServiceError) => void;
  onCancel?: (sessionId: string) => void;
  onCheck?: (check: CheckResult) => void;
  /** Headless only: each challenge an active session asks for (nothing is shown; show it yourself). */
  onChallenge?: (challenge: { challenge: string; index: number; total: number; reprompt: boolean }) => void;
  className?: string;
  style?: CSSProperties;
}

export declare function VerifyVerifier(props: VerifyVerifierProps): ReactElement;
export default VerifyVerifier;
