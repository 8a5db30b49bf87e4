# The image of `npx projen demo`'s container mode (examples/demo-image.ts): the demo's function, the workloads
# of examples/functions, on AWS's Python base image, plus the one line of the fix.
FROM public.ecr.aws/lambda/python:3.12
COPY --from=shm-redirect /opt /opt
COPY functions/*.py ${LAMBDA_TASK_ROOT}/
CMD ["all_workloads.handler"]
