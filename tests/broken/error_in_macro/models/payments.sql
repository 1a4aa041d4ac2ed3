select {{ cents_to_dollars(none) }} as amount
