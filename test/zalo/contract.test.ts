import { channelContract } from "../channels/contract.js";
import { zaloHarness } from "./harness.js";

// The Bot Platform through its webhook: secret header, bare events, answers split at 2000.
channelContract(import.meta.filename, () => zaloHarness("webhook"));
