"""Azure Storage: where references and state live, how they are found, where work is queued.

client_options   how every Storage client talks to the account: timeouts, retries, proxies
tables           a table's verbs over one client per process; ETag writes; errors as our own types
credentials      the Entra credential of a keyless account (azure-identity imported only then)
transactions     entity-group transactions written directly: a tenth of the SDK's CPU
string_queries   queries of string columns read as plain JSON, without the SDK's per-row cost
keys             reversible Table keys for ids with / \\ # ? and other forbidden characters
references       StoredReference: the exact serialize() JSON plus the ids we filter by
reference_store  save, delete, get and stream references page by page
tenant_index     each reference copied whole under its tenant: tenant audiences read no other rows
personal_chats   each Teams user's 1:1 conversation with the bot, by user id or aadObjectId
deletion_log     which references were deleted lately, for the instances sending to them
recent_writes    what this instance last wrote, so an unchanged reference is not written again
audience         who a notification goes to, as a Table filter and a per-row check
large_values     JSON too large for one property: compressed, across several in one entity
queues           the Storage queue work is put on, in the encoding the Functions host reads
"""
