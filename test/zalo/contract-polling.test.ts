import { channelContract } from "../channels/contract.js";
import { zaloHarness } from "./harness.js";

// The same promises kept when the Bot Platform is long-polled (no public URL).
channelContract(import.meta.filename, () => zaloHarness("polling"));
