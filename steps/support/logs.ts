// What steps read a component's log and wait with: marks, the lines after them, the broker's lines
// of one connection, and polling with a deadline. Steps import these from here, whatever backend
// runs the components.
export { markLog, readSince, waitForLogLine, type LogMark } from '../../environments/log-watch.ts';
export { enableBrokerDebugLog, waitForConnectionLine } from '../../environments/mosquitto-log.ts';
export { GiveUp, waitFor } from '../../environments/wait.ts';
export { escapeRegExp } from '../../net/regexp.ts';
