export enum NumberType {
  LONG_CODE = 'LONG_CODE',
  SHORT_CODE = 'SHORT_CODE',
  TOLL_FREE = 'TOLL_FREE',
}

export enum NumberDirection {
  OUTBOUND = 'OUTBOUND',
  INBOUND_OUTBOUND = 'INBOUND_OUTBOUND',
}
