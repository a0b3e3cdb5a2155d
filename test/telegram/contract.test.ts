import { channelContract } from "../channels/contract.js";
import { telegramHarness } from "./harness.js";

channelContract(import.meta.filename, () => telegramHarness());
