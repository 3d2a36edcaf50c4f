export { simulateBoards, type SimulationOptions, type SimulatedBoard } from './simulate.js';
export { simulatedIdentity, isSimulatedSerial, SIMULATED_SERIAL_PREFIX, MAX_BOARDS, MAX_RUN } from './identity.js';
