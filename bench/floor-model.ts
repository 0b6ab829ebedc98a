/**
 * The floor a private step cannot beat on a given link: its one-way flights on the critical
 * path times the one-way delay, plus its gateway–engine bytes (both directions, serialized as
 * the protocol's ping-pong sends them) over the bandwidth, plus the plaintext compute of the
 * same work on the same machine.
 */
import { oneWayDelayMs, serializationMs, type LinkSetting } from './link-settings.js';

export interface Floor {
  networkFloorMs: number;
  plaintextMs: number;
  floorMs: number;
  measuredOverFloor: number;
}

export function networkFloorMs(link: LinkSetting, flights: number, bytes: number): number {
  return flights * oneWayDelayMs(link) + serializationMs(link, bytes);
}

export function floorOf(link: LinkSetting, flights: number, bytes: number, plaintextMs: number, measuredMs: number): Floor {
  const network = networkFloorMs(link, flights, bytes);
  const floor = network + plaintextMs;
  return { networkFloorMs: network, plaintextMs, floorMs: floor, measuredOverFloor: floor > 0 ? measuredMs / floor : 0 };
}
