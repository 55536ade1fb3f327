#!/bin/sh
# One shard of the batch: Ork's job script. Baton passes TASK_INDEX/TASK_COUNT
# and the params as JSON on stdin and in BATON_PARAMS.
set -eu
echo "shard ${TASK_INDEX}/${TASK_COUNT} of run ${BATON_RUN_ID} starting"
sleep 0.2
rows=$(( (TASK_INDEX + 1) * 100 ))
echo "shard ${TASK_INDEX} processed ${rows} rows"
echo "::baton-result:: {\"shard\": ${TASK_INDEX}, \"rows\": ${rows}}"
