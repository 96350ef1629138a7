-- Argo CD health check for kubedrift.io/Experiment, from its phase.
-- A failed trial is Degraded; the DriftCheck that owns it stays Healthy when the run as a whole succeeded.
local hs = { status = "Progressing", message = "Pending" }
if obj.status == nil or obj.status.phase == nil then
  return hs
end
local phase = obj.status.phase
if phase == "Succeeded" then
  hs.status = "Healthy"
  hs.message = "objective " .. tostring(obj.status.objective)
elseif phase == "Failed" then
  hs.status = "Degraded"
  hs.message = (obj.status.reason or "Failed") .. ": " .. (obj.status.message or "")
else
  hs.message = phase
end
return hs
