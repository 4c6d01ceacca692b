-- wrk script for bench/dl: POSTs one KServe v2 infer request holding one
-- Fashion-MNIST image as FP32 [1, 1, 28, 28]; the body is read from the file
-- named by $BODY (bench/dl/run.py writes it).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = assert(io.open(os.getenv("BODY"), "r"))
wrk.body = f:read("*a")
f:close()
